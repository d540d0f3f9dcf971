# SPDX-License-Identifier: GPL-2.0
#
# Backtraces through libuthread's context switch, checked by gdb before
# every instruction of every switch that tests/unwind_target makes:
#
#	gdb -q -batch -x tests/unwind.py build/plain/unwind_target >/dev/null
#
# What gdb unwinds there comes from the switch's CFI.  The expectations do
# not: they are read from the registers and memory at the call, and from
# the context being resumed, so a wrong unwind cannot agree with itself.
#  - Every frame has a function, and the last one is main (the scheduler
#    side) or ut_thread_entry marked outermost (a user thread).
#  - Until the switch moves %rsp, the caller frame is the one that called
#    it: same pc, rsp and callee-saved registers as at the call, even after
#    the next thread's registers have been loaded, and the same frames.
#  - Once %rsp points into a parked thread, the caller frames are the ones
#    that thread parked with ("a backtrace of a parked thread"), and its
#    callee-saved registers are the ones saved in its context.
#  - Once %rsp points into a fresh thread, the switch is the outermost
#    frame (nothing on that stack called it), as ut_thread_entry is next.
# Each kind of switch must have been seen; the exit status is 0 if all
# held, 1 if not.
#
# gdb does not use the CFI at a ret in a compilation unit that GCC did not
# produce (amd64_stack_frame_destroyed_p): it assumes the stack is already
# unwound there, which for this switch happens to be right.  So the last
# instruction's CFI is checked only by libgcc, in unwind_target --self-step.

import os
import re
import sys
import traceback

import gdb

MASK = (1 << 64) - 1
CALLEE_SAVED = ('rbx', 'rbp', 'r12', 'r13', 'r14', 'r15')
MAX_FRAMES = 64
MAX_STEPS = 200
KINDS = ('from-main', 'to-main', 'fresh', 'resume', 'reload', 'exit')


def ctx_offsets():
    """UT_CTX_* from src/ctx_offsets.h: the layout the switch uses."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        '..', 'src', 'ctx_offsets.h')
    off = {}
    with open(path) as f:
        for m in re.finditer(r'#define\s+UT_CTX_(\w+)\s+(\d+)', f.read()):
            off[m.group(1).lower()] = int(m.group(2))
    return off


OFF = ctx_offsets()
problems = []                   # (switch number or 0, text)
seen = dict.fromkeys(KINDS, 0)
parked = {}                     # context address -> its callers when parked


def complain(n, where, what):
    problems.append((n, '%s: %s' % (where, what)))


def report(line):
    """
    To stderr: gdb prints the source line of every stop on its stdout, and
    nothing turns that off, so the caller discards gdb's stdout.
    """
    print('# ' + line, file=sys.stderr)


def mem(addr, size=8):
    data = gdb.selected_inferior().read_memory(addr, size)
    return int.from_bytes(bytes(data), 'little')


def reg(frame, name):
    val = frame.read_register(name)
    if val.is_optimized_out:
        return None
    return int(val) & MASK


def caller_regs(frame):
    """What @frame's unwinder says the caller's registers are."""
    regs = {r: reg(frame, r) for r in CALLEE_SAVED + ('rsp',)}
    regs['pc'] = frame.pc()
    return regs


def real_older(frame):
    """
    The frame that called @frame, past the frames gdb adds from DWARF
    call-site data for tail calls (uthread_yield() jumps into the switch):
    those have the registers of the frame below them, not of a call.
    """
    frame = frame.older()
    while frame is not None and frame.type() == gdb.TAILCALL_FRAME:
        frame = frame.older()
    return frame


def backtrace(frame):
    """
    [(function, pc)] from @frame outwards, and why the last one ends; the
    frames of real calls only (at the switch's ret, gdb finds no tail call).
    """
    frames = []
    while True:
        frames.append((frame.name(), frame.pc()))
        try:
            older = real_older(frame)
        except gdb.error as e:
            return frames, 'error: %s' % e
        if older is None or len(frames) == MAX_FRAMES:
            return frames, frame.unwind_stop_reason()
        frame = older


def show(frames):
    return ' <- '.join('%s@%#x' % (name or '??', pc) for name, pc in frames)


def chain_problem(frames, why):
    """None if the backtrace ends where a backtrace should end."""
    for i, (name, pc) in enumerate(frames):
        if name is None:
            return 'frame #%d at %#x has no function' % (i, pc)
    last = frames[-1][0]
    if last == 'main':
        return None
    if last == 'ut_thread_entry' and why == gdb.FRAME_UNWIND_OUTERMOST:
        return None
    if not isinstance(why, str):
        why = gdb.frame_stop_reason_string(why)
    return 'ends at #%d %s (%s)' % (len(frames) - 1, last, why)


def regs_problem(got, want):
    bad = ['%s %s, not %#x' % (r, '<not saved>' if got[r] is None
                                else '%#x' % got[r], want[r])
           for r in want if got[r] != want[r]]
    return '; '.join(bad) if bad else None


def check_frames(n, where, f0, frames, why, want_regs, want_callers):
    """The caller frame and all frames beyond it, as expected."""
    f1 = real_older(f0)
    if f1 is None:
        complain(n, where, 'no caller frame: %s' % show(frames))
        return
    bad = regs_problem(caller_regs(f1), want_regs)
    if bad:
        complain(n, where, 'caller registers: ' + bad)
    if want_callers is not None and frames[1:] != want_callers:
        complain(n, where, 'backtrace %s, not %s' %
                 (show(frames), show(want_callers)))
    bad = chain_problem(frames, why)
    if bad:
        complain(n, where, 'backtrace %s %s' % (show(frames), bad))


def switch(n, entry_addr, thread_entry):
    """Single-step one call of ut_ctx_switch, checking before each step."""
    f0 = gdb.newest_frame()
    sp = reg(f0, 'rsp')
    frm = reg(f0, 'rdi')
    to = reg(f0, 'rsi')
    fresh = mem(to + OFF['fresh'], 1) != 0
    to_sp = mem(to + OFF['rsp'])

    # The caller, from the call's own registers and return address
    at_call = {r: reg(f0, r) for r in CALLEE_SAVED}
    at_call['rsp'] = sp + 8
    at_call['pc'] = mem(sp)
    frames, why = backtrace(f0)
    callers = frames[1:]
    parked[frm] = callers
    if callers and callers[-1][0] == 'main':
        seen['from-main'] += 1
    if callers and callers[0][0] == 'ut_thread_entry':
        seen['exit'] += 1

    # The thread being resumed, from its saved context
    resumed = None
    resumed_callers = None
    if fresh:
        seen['fresh'] += 1
    else:
        seen['resume'] += 1
        resumed = {r: mem(to + OFF[r]) for r in CALLEE_SAVED}
        resumed['rsp'] = to_sp + 8
        resumed['pc'] = mem(to_sp)
        resumed_callers = parked.get(to)
        if resumed_callers is None:
            complain(n, 'switch %d' % n, 'resumes %#x, never seen parking' %
                     to)
        elif resumed_callers and resumed_callers[-1][0] == 'main':
            seen['to-main'] += 1

    for _ in range(MAX_STEPS):
        f0 = gdb.newest_frame()
        pc = f0.pc()
        if f0.name() != 'ut_ctx_switch':
            break
        insn = f0.architecture().disassemble(pc)[0]['asm']
        if insn.startswith('ldmxcsr'):
            seen['reload'] += 1
        where = 'switch %d (%s), ut_ctx_switch+%d %s' % (
            n, 'fresh' if fresh else 'resume', pc - entry_addr, insn)
        now_sp = reg(f0, 'rsp')
        frames, why = backtrace(f0)
        if now_sp == sp:
            check_frames(n, where, f0, frames, why, at_call, callers)
        elif not fresh and now_sp == to_sp:
            check_frames(n, where, f0, frames, why, resumed, resumed_callers)
        elif fresh and now_sp == to_sp:
            if len(frames) != 1 or why != gdb.FRAME_UNWIND_OUTERMOST:
                complain(n, where, 'on a fresh stack, but %s' % show(frames))
        else:
            complain(n, where, 'rsp %#x: neither the caller\'s %#x nor %#x' %
                     (now_sp, sp, to_sp))
        gdb.execute('stepi', to_string=True)
    else:
        complain(n, 'switch %d' % n, 'still in the switch after %d steps' %
                 MAX_STEPS)
        return

    if fresh:
        frames, why = backtrace(f0)
        if (pc != thread_entry or len(frames) != 1 or
                why != gdb.FRAME_UNWIND_OUTERMOST):
            complain(n, 'switch %d, after the jump' % n,
                     'not ut_thread_entry alone and outermost: %s' %
                     show(frames))


def main():
    for cmd in ('set pagination off', 'set confirm off',
                'set startup-with-shell off', 'set debuginfod enabled off'):
        try:
            gdb.execute(cmd, to_string=True)
        except gdb.error:
            pass                # without debuginfod, no such setting
    stop = gdb.Breakpoint('*ut_ctx_switch', internal=True)
    stop.silent = True
    gdb.execute('run', to_string=True)
    # Only now, with a PIE relocated
    entry_addr = int(gdb.parse_and_eval('(unsigned long)ut_ctx_switch'))
    thread_entry = int(gdb.parse_and_eval('(unsigned long)ut_thread_entry'))
    n = 0
    while gdb.selected_inferior().pid:
        f0 = gdb.newest_frame()
        if f0.pc() != entry_addr:
            complain(0, 'stop %d' % (n + 1),
                     'at %#x %s, not in the switch' % (f0.pc(), f0.name()))
            break
        n += 1
        switch(n, entry_addr, thread_entry)
        gdb.execute('continue', to_string=True)

    code = gdb.parse_and_eval('$_exitcode')
    if code.type.code == gdb.TYPE_CODE_VOID or int(code):
        complain(0, 'end', 'unwind_target did not exit with 0')
    for kind in KINDS:
        if not seen[kind]:
            complain(0, 'end', 'no switch of kind "%s" seen' % kind)

    # The first problem of each switch: enough to see which kinds fail
    counts = {}
    for k, text in problems:
        counts[k] = counts.get(k, 0) + 1
        if counts[k] == 1 or not k:
            report(text)
    for k, count in counts.items():
        if k and count > 1:
            report('switch %d: %d more problems' % (k, count - 1))
    report('%d switches (%s): %d problems' %
           (n, ', '.join('%s %d' % (k, seen[k]) for k in KINDS),
            len(problems)))
    return 1 if problems else 0


try:
    status = main()
except Exception:  # pylint: disable=broad-except
    traceback.print_exc()
    status = 2
gdb.execute('quit %d' % status)
