#!/usr/bin/env python3
"""Generates tests/unit/vmm/x86_len_table.inc: instruction lengths according to
GNU objdump, used by test_x86_decode to check the decoder's length logic.

Random but structured candidates (legacy prefixes, REX, one-byte/0F/0F38/0F3A
maps, VEX/XOP/EVEX, random ModRM/SIB/displacement/immediate bytes) are laid out
32 bytes apart, each followed by 17 NOPs so objdump resynchronises before the
next candidate; the line objdump prints at each candidate's address gives its
length.  Candidates objdump rejects ("(bad)") or splits (a lone prefix such as
"rex.W" or "data16") are left out.  Deterministic (fixed seed).

Usage: gen_x86_len_table.py [count-per-mode] > x86_len_table.inc
"""
import os
import random
import re
import subprocess
import sys
import tempfile

STRIDE = 32
MODES = [("16", "i8086", 2), ("32", "i386", 4), ("64", "x86-64", 8)]
LEGACY = [0x66, 0x67, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65, 0xF0]
# objdump prints these alone when it cannot attach them to an instruction.
LONE_PREFIX = re.compile(r"^(data16|data32|addr16|addr32|rex(\.[WRXB]+)?|lock|rep[nz]*|repn?[ez]|"
                         r"[cdefgs]s|bnd|notrack|xacquire|xrelease|\{[a-z0-9]+\})$")


def candidate(rng, bits):
    out = []
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3])):
        out.append(rng.choice(LEGACY))
    kind = rng.random()
    if bits == 64 and rng.random() < 0.3:
        out.append(0x40 | rng.randrange(16))
    if kind < 0.45:
        op = rng.randrange(256)
        out.append(op)
    elif kind < 0.75:
        out += [0x0F, rng.randrange(256)]
    elif kind < 0.82:
        out += [0x0F, 0x38, rng.randrange(256)]
    elif kind < 0.88:
        out += [0x0F, 0x3A, rng.randrange(256)]
    elif kind < 0.93:          # VEX
        if rng.random() < 0.5:
            out += [0xC5, rng.randrange(256) | (0 if bits == 64 else 0xC0)]
        else:
            out += [0xC4, (rng.randrange(8) << 5 | rng.choice([1, 2, 3])) | (0 if bits == 64 else 0xC0),
                    rng.randrange(256)]
        out.append(rng.randrange(256))
    elif kind < 0.97:          # EVEX
        p0 = (rng.randrange(16) << 4) | rng.choice([1, 2, 3, 5, 6])
        if bits != 64:
            p0 |= 0xC0
        out += [0x62, p0, rng.randrange(256) | 4, rng.randrange(256), rng.randrange(256)]
    else:                      # XOP
        out += [0x8F, (rng.randrange(8) << 5) | rng.choice([8, 9, 10]), rng.randrange(256),
                rng.randrange(256)]
    while len(out) < 15:
        out.append(rng.randrange(256))
    return bytes(out[:15])


def vex_after_bad_prefix(c, bits):
    """True when a VEX/XOP/EVEX lead follows 66/F2/F3/F0 or a REX: objdump
    decodes it, the CPU raises #UD, and the decoder must refuse it."""
    bad = False
    i = 0
    while i < len(c):
        b = c[i]
        if b in (0x66, 0xF2, 0xF3, 0xF0):
            bad = True
        elif b in (0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x67):
            pass
        elif bits == 64 and 0x40 <= b <= 0x4F:
            # a REX only counts when the opcode follows it directly
            if i + 1 < len(c) and c[i + 1] in (0xC4, 0xC5, 0x62, 0x8F):
                bad = True
        else:
            break
        i += 1
    if i + 1 >= len(c):
        return False
    lead, nxt = c[i], c[i + 1]
    if lead == 0x8F:
        esc = (nxt & 0x1F) >= 8
    elif lead in (0xC4, 0xC5, 0x62):
        esc = bits == 64 or nxt >= 0xC0
    else:
        esc = False
    return esc and bad


def objdump_lengths(blob, machine, count):
    with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
        f.write(blob)
        path = f.name
    try:
        m = ["-m", "i386:x86-64"] if machine == "x86-64" else ["-m", "i386"]
        if machine == "i8086":
            m = ["-m", "i8086"]
        res = subprocess.run(["objdump", "-D", "-b", "binary", *m, "--insn-width=16", path],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(path)
    found = {}
    line_re = re.compile(r"^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t?(.*)$")
    for line in res.splitlines():
        mm = line_re.match(line)
        if not mm:
            continue
        addr = int(mm.group(1), 16)
        if addr % STRIDE or addr // STRIDE >= count:
            continue
        nbytes = len(mm.group(2).split())
        text = mm.group(3).strip()
        lone = all(LONE_PREFIX.match(t) for t in text.split())
        if "(bad)" in text or lone or not text:
            found[addr // STRIDE] = None
        else:
            found[addr // STRIDE] = (nbytes, text)
    return found


# Valid instructions written as assembly (the forms the monitor decodes, and
# mode-specific encodings); lengths come from assembling them with GNU as.
ASM_COMMON = """
cpuid; rdmsr; wrmsr; hlt; vmmcall; vmcall; vmrun; vmload; vmsave; stgi; clgi; skinit; invlpga
xsetbv; rdtsc; rdtscp; pause; lfence; mfence; ud2; int3; int $0x80
in $0x60,%al; in $0x60,%eax; in (%dx),%al; in (%dx),%ax; in (%dx),%eax; in $0x71,%ax
out %al,$0x80; out %eax,(%dx); out %ax,(%dx); out %al,(%dx)
rep insb; rep insl; rep insw; rep outsw; rep outsb; insb; outsl; rep stosb; repne scasb
enter $0x10,$1; ret $8; lret; lret $4; iret; leave
push $0x12345678; push $1; pushw $0x1234; pushf; popf
imul $0x1000,%eax,%ecx; imul $3,%eax,%ecx; test $0x1234,%eax; testb $1,(%ebx)
shld $3,%eax,%ebx; shrd %cl,%eax,%ebx; bt $5,%eax; btsl $3,(%ecx); bswap %eax
xbegin .+0x100; xabort $1; xend; xtest
nop; nopw 0x0(%eax,%eax,1); nopl 0x0(%eax); xchg %ax,%ax
clflush (%eax); prefetcht0 (%eax); prefetchw (%eax); fxsave (%eax); xsave (%eax); lfence
fldt (%eax); fstp %st(1); fnstsw %ax; filds 8(%esi); fadd %st(2),%st; fwait
crc32b %al,%eax; movbe (%eax),%eax; popcnt %eax,%ebx; tzcnt %eax,%ebx; lzcnt 4(%eax),%ebx
pshufb %xmm1,%xmm0; pextrb $1,%xmm0,%eax; palignr $3,%xmm1,%xmm0; aesenc %xmm1,%xmm0; sha1rnds4 $1,%xmm1,%xmm0
movdqu (%eax),%xmm0; cmpps $1,%xmm1,%xmm0; pshufd $0x1b,0x10(%eax),%xmm2; psrlw $2,%xmm3; pinsrw $2,%eax,%xmm1
extrq $1,$2,%xmm0; insertq $1,$2,%xmm1,%xmm0; extrq %xmm1,%xmm0; movntss %xmm0,(%eax)
vmovdqu (%eax),%ymm0; vpshufd $1,%xmm0,%xmm1; vzeroupper; vzeroall; vpermq $1,%ymm0,%ymm1; andn %eax,%ebx,%ecx
vmovdqu64 (%eax),%zmm0; vaddps 0x40(%eax){1to16},%zmm1,%zmm2; vpternlogd $0x11,%zmm0,%zmm1,%zmm2; kmovw %k1,%k2
vcmpps $3,%ymm1,%ymm2,%ymm3; vpblendd $5,%ymm1,%ymm2,%ymm3; vfmadd231ps (%eax),%xmm1,%xmm2; vpcmpeqd %zmm1,%zmm2,%k1
bextr $0x1234,%eax,%ebx; vpcmov %xmm1,%xmm2,%xmm3,%xmm4; vprotd $3,%xmm1,%xmm2; blcfill %eax,%ebx
movl $0x12345678,0x12345678(,%eax,4); movb $1,-0x80(%ebp); movw $0x1234,(%esp); mov %ah,(%ebx)
mov (%eax),%ecx; mov %ecx,(%eax); mov %es:(%edi),%al; mov %al,%fs:0x10; mov 0x12345678,%eax; mov %al,0x10
lock cmpxchg %ecx,(%ebx); lock incl (%eax); xchg %eax,(%ebx); lea 0x10(%eax,%ecx,2),%edx
mov %cs,%ax; mov %ax,%ds; lgdt (%eax); lidt 6(%ebx); sgdt (%eax); lldt %ax; ltr %ax; invlpg (%eax); wbinvd; clts
"""
ASM_16_32 = """
les (%eax),%eax; lds 4(%ebx),%ecx; bound %eax,(%ebx); pusha; popa; aaa; daa; das; aas; into; aam; aad $10
ljmp $0x10,$0x1000; lcall $8,$0; push %es; pop %ds; push %cs; mov %eax,%cr0; mov %cr3,%eax; mov %dr7,%eax
sysenter; sysexit; arpl %ax,(%ebx); inc %eax; dec %ecx; call .+0x1000; jmp .+0x10; jne .+0x1000; jcxz .+4; loop .-2
"""
ASM_32 = """
addr16 mov (%bx,%si),%ax; addr16 movw $1,2(%bp,%di); addr16 mov 0x1234,%eax; addr16 rep insb
"""
ASM_16 = """
mov %ax,2(%bp,%si); mov (%bx),%al; mov 0x1234,%al; movw $0x1234,0x10(%bx,%di); addr32 mov (%eax),%ax
movl $0x12345678,(%ebx); mov %eax,(%si); int $0x10; ljmp $0xf000,$0xfff0; lgdtl (%si)
"""
ASM_64 = """
mov %r15,0x7fffffff(%r12,%r13,8); mov 0x0(%rip),%rcx; movq $-1,%gs:0x10; mov %sil,(%rdi); mov %r9b,(%r10)
movabs 0x1122334455667788,%al; movabs %rax,0x1122334455667788; movabs $0x1122334455667788,%r11; mov $1,%r8d
mov %cr0,%rax; mov %rax,%cr3; mov %dr7,%rax; mov %cr8,%rax; mov %rax,%cr8
jmp .+0x100; call .+0x10000; jne .+0x1000; jrcxz .+4; jmp *(%rax); call *0x10(%rbx); ljmp *(%rax); lcall *0x10(%rbx)
iretq; sysret; syscall; swapgs; sysretq; push %r12; pop %r13; pushq $0x10; movslq %eax,%rcx
lock cmpxchg16b (%rdi); addr32 rep insb; rep outsb %fs:(%rsi),(%dx); addr32 mov (%eax),%eax; mov (%r13),%rax; mov (%r12),%rax
vmovdqu64 (%r8),%zmm30; vaddps %zmm29,%zmm30,%zmm31{%k1}{z}; vpgatherdd (%rax,%zmm1,4),%zmm2{%k1}; vcvtph2ps (%r9),%zmm5
vaddph %zmm1,%zmm2,%zmm3; vfmadd132ph (%rax),%xmm1,%xmm2; vmovw %xmm1,%eax
rex.W nop; data16 mov %eax,(%rbx); cs nopw 0x0(%rax,%rax,1); rdfsbase %rax; wrgsbase %rbx; incq (%rax)
"""


def asm_cases(bits):
    lines = ASM_COMMON + {16: ASM_16_32 + ASM_16, 32: ASM_16_32 + ASM_32, 64: ASM_64}[bits]
    insns = [i.strip() for ln in lines.strip().splitlines() for i in ln.split(";") if i.strip()]
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "a.s")
        with open(src, "w") as f:
            f.write({16: ".code16\n", 32: ".code32\n", 64: ".code64\n"}[bits])
            for i in insns:
                f.write(i + "\n")
        obj = os.path.join(d, "a.o")
        r = subprocess.run(["as", "--64" if bits == 64 else "--32", src, "-o", obj],
                           capture_output=True, text=True)
        if r.returncode:
            sys.exit(r.stderr)
        m = {16: "i8086", 32: "i386", 64: "x86-64"}[bits]
        res = subprocess.run(["objdump", "-d", "-M", m, "--insn-width=16", obj],
                             capture_output=True, text=True, check=True).stdout
        raw = open(obj, "rb").read()
    line_re = re.compile(r"^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t?(.*)$")
    got = []
    for line in res.splitlines():
        mm = line_re.match(line)
        if mm:
            got.append((bytes.fromhex(mm.group(2).replace(" ", "")), mm.group(3).strip()))
    # fwait folded into the next x87 op by objdump would misalign: as emits
    # one line per source instruction, so the counts must agree.
    if len(got) != len(insns):
        sys.exit("as/objdump disagree on instruction count in %d-bit mode: %d vs %d"
                 % (bits, len(got), len(insns)))
    del raw
    return [(b, src_text) for (b, _), src_text in zip(got, insns)]


def main():
    per_mode = int(sys.argv[1]) if len(sys.argv) > 1 else 800
    rng = random.Random(20261125)
    print("/* Generated by tests/unit/vmm/gen_x86_len_table.py from GNU objdump "
          f"({subprocess.run(['objdump', '--version'], capture_output=True, text=True).stdout.splitlines()[0]}).")
    print(" * {mode bits, objdump length (0: the CPU raises #UD, decoder must refuse), 15 bytes in hex}.")
    print(" * Do not edit. */")
    for bits_s, machine, _ in MODES:
        bits = int(bits_s)
        for b, text in asm_cases(bits):
            print('{ %d, %d, "%s" }, /* as: %s */' % (bits, len(b), (b + b"\x90" * 15)[:15].hex(),
                                                    text.replace("*/", "* /")[:40]))
        cands = [candidate(rng, bits) for _ in range(per_mode * 3)]
        blob = b"".join(c + b"\x90" * (STRIDE - 15) for c in cands)
        lens = objdump_lengths(blob, machine, len(cands))
        kept = 0
        for i, c in enumerate(cands):
            r = lens.get(i)
            if not r or kept >= per_mode:
                continue
            n, text = r
            if n > 15:
                continue       # objdump does not enforce the 15-byte limit
            text = text.replace("*/", "* /")[:40]
            k = 0
            while k < 14 and (c[k] in LEGACY or (bits == 64 and 0x40 <= c[k] <= 0x4F)):
                k += 1
            if c[k] == 0x9B:
                continue       # objdump folds FWAIT into the next x87 op; the CPU does not
            if vex_after_bad_prefix(c, bits):
                n, text = 0, "#UD: " + text[:35]
            print('{ %d, %d, "%s" }, /* %s */' % (bits, n, c.hex(), text[:30]))
            kept += 1


if __name__ == "__main__":
    main()
