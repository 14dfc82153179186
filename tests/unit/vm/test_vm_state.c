/* Unit tests for the VM state machine (vmm/services/vm_state.c): every
 * pair of the transition table, and every operation in every state with
 * the refusal Virtual PC gave. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "services/vm_state.h"

#define N TV_VM_STATE_COUNT

/* The transitions the lifecycle uses, written out independently of the
 * table: anything else must be refused. */
static bool expected_move(uint32_t from, uint32_t to)
{
    static const uint32_t pairs[][2] = {
        { TV_VM_TURNED_OFF, TV_VM_TURNING_ON },   /* Startup */
        { TV_VM_TURNED_OFF, TV_VM_MERGING_DRIVES },
        { TV_VM_SAVED, TV_VM_RESTORING },
        { TV_VM_SAVED, TV_VM_TURNED_OFF },        /* saved state discarded */
        { TV_VM_SAVED, TV_VM_MERGING_DRIVES },
        { TV_VM_TURNING_ON, TV_VM_RUNNING },
        { TV_VM_TURNING_ON, TV_VM_TURNED_OFF },   /* cancelled / failed Startup */
        { TV_VM_RESTORING, TV_VM_RUNNING },
        { TV_VM_RESTORING, TV_VM_SAVED },
        { TV_VM_RUNNING, TV_VM_PAUSED },
        { TV_VM_RUNNING, TV_VM_SAVING },
        { TV_VM_RUNNING, TV_VM_TURNING_OFF },
        { TV_VM_PAUSED, TV_VM_RUNNING },
        { TV_VM_PAUSED, TV_VM_SAVING },
        { TV_VM_PAUSED, TV_VM_TURNING_OFF },
        { TV_VM_SAVING, TV_VM_SAVED },
        { TV_VM_SAVING, TV_VM_RUNNING },           /* Save cancelled / failed */
        { TV_VM_SAVING, TV_VM_PAUSED },            /* the same for a paused VM */
        { TV_VM_SAVING, TV_VM_TURNING_OFF },       /* the guest stopped itself meanwhile */
        { TV_VM_TURNING_OFF, TV_VM_TURNED_OFF },
        { TV_VM_MERGING_DRIVES, TV_VM_TURNED_OFF },
        { TV_VM_MERGING_DRIVES, TV_VM_SAVED },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (pairs[i][0] == from && pairs[i][1] == to)
            return true;
    return false;
}

static void transitions_match_the_lifecycle(void **state)
{
    (void)state;
    unsigned allowed = 0;
    for (uint32_t from = 0; from <= N + 1; from++) {
        for (uint32_t to = 0; to <= N + 1; to++) {
            bool want = expected_move(from, to);
            if (vm_transition_allowed(from, to) != want) {
                print_error("%s -> %s: table says %d\n", vm_state_name(from), vm_state_name(to),
                            !want);
                fail();
            }
            allowed += want;
        }
    }
    assert_int_equal(allowed, 22);
    /* No state moves to itself: every change is an event. */
    for (uint32_t s = 0; s < N; s++)
        assert_false(vm_transition_allowed(s, s));
}

static void states_are_virtual_pcs(void **state)
{
    (void)state;
    /* VMVMState numbers (vmvmstate): the ABI promises the same values. */
    assert_int_equal(TV_VM_TURNED_OFF, 1);
    assert_int_equal(TV_VM_SAVED, 2);
    assert_int_equal(TV_VM_RUNNING, 5);
    assert_int_equal(TV_VM_MERGING_DRIVES, 9);
    assert_false(vm_state_valid(TV_VM_INVALID));
    assert_true(vm_state_valid(TV_VM_TURNED_OFF));
    assert_false(vm_state_valid(N));
    assert_string_equal(vm_state_name(TV_VM_TURNING_ON), "turning on");
    assert_string_equal(vm_state_name(N), "invalid");
}

struct op_case {
    uint32_t op, state;
    tv_status_t want;
};

static void operations_are_checked_per_state(void **state)
{
    (void)state;
    static const struct op_case cases[] = {
        { VM_OP_STARTUP, TV_VM_TURNED_OFF, TV_OK },
        { VM_OP_STARTUP, TV_VM_RUNNING, TV_E_VM_RUNNING },
        { VM_OP_STARTUP, TV_VM_PAUSED, TV_E_VM_RUNNING },
        { VM_OP_STARTUP, TV_VM_TURNING_ON, TV_E_VM_RUNNING },
        { VM_OP_STARTUP, TV_VM_TURNING_OFF, TV_E_BUSY },
        { VM_OP_STARTUP, TV_VM_SAVED, TV_OK },     /* a restore */
        { VM_OP_STARTUP, TV_VM_RESTORING, TV_E_VM_RUNNING },
        { VM_OP_SAVE, TV_VM_RUNNING, TV_OK },
        { VM_OP_SAVE, TV_VM_PAUSED, TV_OK },
        { VM_OP_SAVE, TV_VM_TURNED_OFF, TV_E_VM_NOT_RUNNING },
        { VM_OP_SAVE, TV_VM_SAVED, TV_E_VM_NOT_RUNNING },
        { VM_OP_SAVE, TV_VM_SAVING, TV_E_BUSY },
        { VM_OP_SAVE, TV_VM_RESTORING, TV_E_BUSY },
        { VM_OP_TURN_OFF, TV_VM_RUNNING, TV_OK },
        { VM_OP_TURN_OFF, TV_VM_PAUSED, TV_OK },
        { VM_OP_TURN_OFF, TV_VM_TURNED_OFF, TV_E_VM_NOT_RUNNING },
        { VM_OP_TURN_OFF, TV_VM_SAVED, TV_E_VM_NOT_RUNNING },
        { VM_OP_TURN_OFF, TV_VM_TURNING_ON, TV_E_BUSY },
        { VM_OP_RESET, TV_VM_RUNNING, TV_OK },
        { VM_OP_RESET, TV_VM_PAUSED, TV_OK },
        { VM_OP_RESET, TV_VM_TURNED_OFF, TV_E_VM_NOT_RUNNING },
        { VM_OP_PAUSE, TV_VM_RUNNING, TV_OK },
        { VM_OP_PAUSE, TV_VM_PAUSED, TV_E_INVALID_STATE },
        { VM_OP_PAUSE, TV_VM_TURNED_OFF, TV_E_VM_NOT_RUNNING },
        { VM_OP_RESUME, TV_VM_PAUSED, TV_OK },
        { VM_OP_RESUME, TV_VM_RUNNING, TV_E_INVALID_STATE },
        { VM_OP_RESUME, TV_VM_TURNED_OFF, TV_E_VM_NOT_RUNNING },
        { VM_OP_RESUME, TV_VM_TURNING_OFF, TV_E_BUSY },
        { VM_OP_SHUTDOWN, TV_VM_RUNNING, TV_OK },
        { VM_OP_SHUTDOWN, TV_VM_PAUSED, TV_E_VM_NOT_RUNNING },
        { VM_OP_SHUTDOWN, TV_VM_TURNED_OFF, TV_E_VM_NOT_RUNNING },
        { VM_OP_SHUTDOWN, TV_VM_SAVED, TV_E_VM_NOT_RUNNING },
        { VM_OP_SHUTDOWN, TV_VM_TURNING_OFF, TV_E_BUSY },
        { VM_OP_RESTART, TV_VM_RUNNING, TV_OK },
        { VM_OP_RESTART, TV_VM_PAUSED, TV_E_VM_NOT_RUNNING },
        { VM_OP_RESTART, TV_VM_TURNING_ON, TV_E_BUSY },
        { VM_OP_LOGOFF, TV_VM_RUNNING, TV_OK },
        { VM_OP_LOGOFF, TV_VM_TURNED_OFF, TV_E_VM_NOT_RUNNING },
        { VM_OP_LOGOFF, TV_VM_SAVING, TV_E_BUSY },
        { VM_OP_COUNT, TV_VM_RUNNING, TV_E_INVALID_ARGUMENT },
        { VM_OP_STARTUP, TV_VM_INVALID, TV_E_INVALID_ARGUMENT },
        { VM_OP_STARTUP, N, TV_E_INVALID_ARGUMENT },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tv_status_t got = vm_op_check(cases[i].op, cases[i].state, false);
        if (got != cases[i].want) {
            print_error("%s in %s: got %d, want %d\n", vm_op_name(cases[i].op),
                        vm_state_name(cases[i].state), got, cases[i].want);
            fail();
        }
    }
    /* Every allowed operation leads somewhere the transition table allows. */
    for (uint32_t s = 1; s < N; s++) {
        if (vm_op_check(VM_OP_STARTUP, s, false) == TV_OK)
            assert_true(vm_transition_allowed(s, s == TV_VM_SAVED ? TV_VM_RESTORING : TV_VM_TURNING_ON));
        if (vm_op_check(VM_OP_SAVE, s, false) == TV_OK)
            assert_true(vm_transition_allowed(s, TV_VM_SAVING) &&
                        vm_transition_allowed(TV_VM_SAVING, s)); /* a cancel goes back */
        if (vm_op_check(VM_OP_TURN_OFF, s, false) == TV_OK)
            assert_true(vm_transition_allowed(s, TV_VM_TURNING_OFF));
        if (vm_op_check(VM_OP_RESET, s, false) == TV_OK)
            assert_true(vm_transition_allowed(s, TV_VM_TURNING_OFF));
        if (vm_op_check(VM_OP_PAUSE, s, false) == TV_OK)
            assert_true(vm_transition_allowed(s, TV_VM_PAUSED));
        if (vm_op_check(VM_OP_RESUME, s, false) == TV_OK)
            assert_true(vm_transition_allowed(s, TV_VM_RUNNING));
        if (vm_op_check(VM_OP_SHUTDOWN, s, false) == TV_OK || vm_op_check(VM_OP_RESTART, s, false) == TV_OK)
            assert_true(vm_transition_allowed(s, TV_VM_TURNING_OFF));
    }
}

static void the_control_partition_cannot_stop_itself(void **state)
{
    (void)state;
    assert_int_equal(vm_op_check(VM_OP_TURN_OFF, TV_VM_RUNNING, true), TV_E_CONTROL_PARTITION);
    assert_int_equal(vm_op_check(VM_OP_RESET, TV_VM_RUNNING, true), TV_E_CONTROL_PARTITION);
    assert_int_equal(vm_op_check(VM_OP_PAUSE, TV_VM_RUNNING, true), TV_E_CONTROL_PARTITION);
    assert_int_equal(vm_op_check(VM_OP_RESUME, TV_VM_RUNNING, true), TV_E_CONTROL_PARTITION);
    assert_int_equal(vm_op_check(VM_OP_STARTUP, TV_VM_RUNNING, true), TV_E_VM_RUNNING);
    assert_int_equal(vm_op_check(VM_OP_SHUTDOWN, TV_VM_RUNNING, true), TV_E_CONTROL_PARTITION);
    assert_int_equal(vm_op_check(VM_OP_RESTART, TV_VM_RUNNING, true), TV_E_CONTROL_PARTITION);
    assert_int_equal(vm_op_check(VM_OP_LOGOFF, TV_VM_RUNNING, true), TV_E_CONTROL_PARTITION);
}

/* A guest operation meeting a shutdown or restart hears SHUTDOWN_IN_PROGRESS;
 * everything else meeting any operation BUSY. */
static void claims_say_why(void **state)
{
    (void)state;
    for (uint32_t held = 0; held < VM_OP_COUNT; held++)
        for (uint32_t op = 0; op < VM_OP_COUNT; op++) {
            bool power = held == VM_OP_SHUTDOWN || held == VM_OP_RESTART;
            bool guest = op == VM_OP_SHUTDOWN || op == VM_OP_RESTART || op == VM_OP_LOGOFF;
            assert_int_equal(vm_op_claim_refusal(held, op),
                             power && guest ? TV_E_SHUTDOWN_IN_PROGRESS : TV_E_BUSY);
            assert_int_equal(vm_op_is_guest(op), guest);
        }
    assert_int_equal(vm_op_agent_cap(VM_OP_SHUTDOWN), 1);
    assert_int_equal(vm_op_agent_cap(VM_OP_RESTART), 2);
    assert_int_equal(vm_op_agent_cap(VM_OP_LOGOFF), 4);
    assert_int_equal(vm_op_agent_cap(VM_OP_RESET), 0);
}

static void operations_have_task_types(void **state)
{
    (void)state;
    assert_int_equal(vm_op_task_type(VM_OP_STARTUP), TV_TASK_TYPE_VM_STARTUP);
    assert_int_equal(vm_op_task_type(VM_OP_TURN_OFF), TV_TASK_TYPE_VM_TURN_OFF);
    assert_int_equal(vm_op_task_type(VM_OP_RESET), TV_TASK_TYPE_VM_RESET);
    assert_int_equal(vm_op_task_type(VM_OP_PAUSE), TV_TASK_TYPE_VM_PAUSE);
    assert_int_equal(vm_op_task_type(VM_OP_RESUME), TV_TASK_TYPE_VM_RESUME);
    assert_int_equal(vm_op_task_type(VM_OP_SHUTDOWN), TV_TASK_TYPE_VM_SHUTDOWN);
    assert_int_equal(vm_op_task_type(VM_OP_RESTART), TV_TASK_TYPE_VM_RESTART);
    assert_int_equal(vm_op_task_type(VM_OP_LOGOFF), TV_TASK_TYPE_VM_LOGOFF);
    assert_int_equal(vm_op_task_type(VM_OP_COUNT), TV_TASK_TYPE_COUNT);
    assert_string_equal(vm_op_name(VM_OP_TURN_OFF), "turn off");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transitions_match_the_lifecycle),
        cmocka_unit_test(states_are_virtual_pcs),
        cmocka_unit_test(operations_are_checked_per_state),
        cmocka_unit_test(the_control_partition_cannot_stop_itself),
        cmocka_unit_test(operations_have_task_types),
        cmocka_unit_test(claims_say_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
