package dev.mmureplay.jobs;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link EventBatcher#turns}: the order in which the sources batch a block's or a fetch's events of several VMs —
 * VMs in turns of one full batch each, each VM's events in their order.
 */
class EventBatcherTurnsTest {

    static int[] turns(String[] vms, int length) {
        int[] lengths = new int[vms.length];
        Arrays.fill(lengths, length);
        return EventBatcher.turns(vms, lengths, vms.length);
    }

    @Test
    void vmsAlternatingEventByEventAreGroupedEachInItsOrder() {
        String[] vms = {"a", "b", "a", "b", "a", "c"};
        assertArrayEquals(new int[] {0, 2, 4, 1, 3, 5}, turns(vms, 10));
    }

    @Test
    void theVmsTakeTurnsOfOneFullBatchInTheOrderOfTheirFirstEvent() {
        int perBatch = EventBatch.MAX_BYTES / 100;   // 100-byte events: this many fill a batch
        List<String> list = new ArrayList<>();
        for (int i = 0; i < 3 * perBatch; i++) {
            list.add("b");
            list.add("a");
        }
        String[] vms = list.toArray(String[]::new);
        int[] order = turns(vms, 100);
        StringBuilder seen = new StringBuilder();
        for (int k = 0; k < order.length; k += perBatch) {
            for (int j = k; j < k + perBatch; j++) {
                assertEquals(vms[order[k]], vms[order[j]], "a turn is one VM's: position " + j);
            }
            seen.append(vms[order[k]]);
        }
        assertEquals("bababa", seen.toString());
    }

    @Test
    void anEventLargerThanABatchIsATurnOfItsOwn() {
        String[] vms = {"a", "a", "b"};
        int[] lengths = {EventBatch.MAX_BYTES + 1, 10, 10};
        assertArrayEquals(new int[] {0, 2, 1}, EventBatcher.turns(vms, lengths, 3));
    }

    @Test
    void equalVmsThatAreNotTheSameInstanceAreOneVm() {
        String[] vms = {"vm", new String("vm"), "x", new String("vm")};
        assertArrayEquals(new int[] {0, 1, 3, 2}, turns(vms, 10));
    }
}
