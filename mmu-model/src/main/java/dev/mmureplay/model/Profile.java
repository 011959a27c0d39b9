package dev.mmureplay.model;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * A named set of behaviour switches that differ between kernel versions / patches (DESIGN §4). {@link #UPSTREAM}
 * has none. Immutable.
 *
 * @param name     profile name
 * @param switches behaviour switches
 */
public record Profile(String name, Set<Switch> switches) {

    /** Kernel behaviours a profile can switch. */
    public enum Switch {
        /** MMIO SPTE generation in bits 3-11 (overlapping MMU-present bit 11), before the 2021 fix. */
        MMIO_GEN_BIT11("mmio-gen-bit11", true),
        /** NX-recovery zap of one TDP shadow page may yield with a pending flush (TDP MMU; not modelled here). */
        TDP_ZAP_SP_MAY_YIELD("tdp-zap-sp-may-yield", false),
        /** PAE roots as ordinary shadow pages with default PDPTEs (2021/22 RFC; not modelled here). */
        PAE_ROOT_DEFAULT_PDPTE("pae-root-default-pdpte", false),
        /** CR4.PAE not part of the MMU role: toggling it with paging on keeps the old context. */
        NO_RESET_ON_PAE_TOGGLE("no-reset-on-pae-toggle", true),
        /** Fault path before the 2024 cleanups (private faults / MMIO cache; not modelled here). */
        PRE_6_10_FAULT_PATH("pre-6.10-fault-path", false);

        private final String id;
        private final boolean modelled;

        Switch(String id, boolean modelled) {
            this.id = id;
            this.modelled = modelled;
        }

        public String id() {
            return id;
        }

        /** Whether this model implements the switch (others are accepted and documented as not modelled). */
        public boolean modelled() {
            return modelled;
        }
    }

    public static final Profile UPSTREAM = new Profile("upstream", EnumSet.noneOf(Switch.class));

    public Profile {
        switches = Collections.unmodifiableSet(switches.isEmpty() ? EnumSet.noneOf(Switch.class)
                : EnumSet.copyOf(switches));
    }

    public boolean has(Switch s) {
        return switches.contains(s);
    }

    /** The profile of the given switch ({@code upstream} plus that switch), named after it. */
    public static Profile of(Switch s) {
        return new Profile(s.id(), EnumSet.of(s));
    }
}
