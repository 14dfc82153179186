# tests/guest/x86/: guests for the monitor's exit handling (MSR, I/O, XSETBV).
$(eval $(call guest_image,io_msr,tests/guest/x86/io_msr.c))
ALL_TARGETS += $(BUILD)/guests/io_msr.elf
$(eval $(call guest_image,fpu_state,tests/guest/x86/fpu_state.c))
ALL_TARGETS += $(BUILD)/guests/fpu_state.elf
$(eval $(call guest_image,cpuid_msr,tests/guest/x86/cpuid_msr.c))
ALL_TARGETS += $(BUILD)/guests/cpuid_msr.elf
