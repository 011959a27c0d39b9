package dev.mmureplay.replayer.parse;

import java.nio.charset.StandardCharsets;

/**
 * What the parser knows about a task name, computed once per distinct name (see {@link InternTable}).
 *
 * @param name          the comm as printed, e.g. "CPU 0/KVM", "kvm-nx-lpage-re", "&lt;...&gt;"
 * @param vcpu          n for QEMU's vCPU thread names "CPU n/KVM", else -1
 * @param kernelThread  the name is one of the kernel's own threads (see {@link #isKernelThreadName})
 */
public record TaskInfo(String name, int vcpu, boolean kernelThread) {

    /** Prefixes of kernel-thread names that can print kvm/kvmmmu events on behalf of a VM. */
    private static final String[] KTHREAD_PREFIXES = {
        "kvm-",          // kvm-nx-lpage-recovery (comm cut to "kvm-nx-lpage-re"), kvm-pit/<pid>, ...
        "kworker/", "ksoftirqd/", "kswapd", "khugepaged", "kcompactd", "migration/", "irq/", "rcu",
        "kthreadd", "oom_reaper", "<idle>", "swapper/",
    };

    static TaskInfo of(byte[] b, int from, int to) {
        String name = new String(b, from, to - from, StandardCharsets.UTF_8);
        return new TaskInfo(name, vcpuOf(name), isKernelThreadName(name));
    }

    /** QEMU names its vCPU threads "CPU %d/KVM" (accel/kvm/kvm-accel-ops.c). */
    static int vcpuOf(String name) {
        if (!name.startsWith("CPU ") || !name.endsWith("/KVM") || name.length() < 9 || name.length() > 17) {
            return -1;
        }
        int v = 0;
        for (int i = 4; i < name.length() - 4; i++) {
            char c = name.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    static boolean isKernelThreadName(String name) {
        for (String p : KTHREAD_PREFIXES) {
            if (name.startsWith(p)) {
                return true;
            }
        }
        return false;
    }
}
