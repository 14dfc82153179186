# tests/guest/x86/: guests for the monitor's exit handling (MSR, I/O, XSETBV).
$(eval $(call guest_image,io_msr,tests/guest/x86/io_msr.c))
ALL_TARGETS += $(BUILD)/guests/io_msr.elf
$(eval $(call guest_image,fpu_state,tests/guest/x86/fpu_state.c))
ALL_TARGETS += $(BUILD)/guests/fpu_state.elf
$(eval $(call guest_image,cpuid_msr,tests/guest/x86/cpuid_msr.c))
ALL_TARGETS += $(BUILD)/guests/cpuid_msr.elf
$(eval $(call guest_image,cpu_fidelity,tests/guest/x86/cpu_fidelity.c))
ALL_TARGETS += $(BUILD)/guests/cpu_fidelity.elf
$(eval $(call guest_image,nmi_request,tests/guest/x86/nmi_request.c))
ALL_TARGETS += $(BUILD)/guests/nmi_request.elf
$(eval $(call guest_image,dr_pkru,tests/guest/x86/dr_pkru.c))
ALL_TARGETS += $(BUILD)/guests/dr_pkru.elf
$(eval $(call guest_image,db_loop,tests/guest/x86/db_loop.c))
ALL_TARGETS += $(BUILD)/guests/db_loop.elf
