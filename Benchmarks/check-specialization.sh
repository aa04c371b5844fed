#!/usr/bin/env bash
# Checks that a release build specializes a stack's whole allocate/deallocate path: walks the
# call graph of one layerbench loop function in the disassembly and fails on any indirect call
# (`call *…`, `jmp *…`), any call to a protocol witness, and any call to an unspecialized
# generic layer method. Fatal-error paths (functions that never return: no `ret` and no tail
# call) are not walked: they build their message with the standard library's generic string
# code, and calling them is allowed.
#
#   swift build -c release --product layerbench
#   Benchmarks/check-specialization.sh [function]   # default: cardStackPairs
#
# Needs objdump (binutils) and `swift demangle` from the toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=.build/release/layerbench
root="${1:-cardStackPairs}"
[ -x "$binary" ] || { echo "build first: swift build -c release --product layerbench" >&2; exit 2; }

objdump -d --no-show-raw-insn "$binary" | swift demangle --simplified | awk -v root="$root" '
  # Collect each function body, keyed by its demangled name.
  /^[0-9a-f]+ <.*>:$/ {
    name = $0; sub(/^[0-9a-f]+ </, "", name); sub(/>:$/, "", name)
    order[++count] = name; next
  }
  name != "" && NF > 0 { body[name] = body[name] "\n" $0 }
  END {
    for (i = 1; i <= count; i++) if (index(order[i], root "(") == 1) { start = order[i]; break }
    if (start == "") { print "no function named " root "(…) in the binary"; exit 2 }
    queue[1] = start; head = 1; tail = 1; seen[start] = 1; bad = 0
    while (head <= tail) {
      f = queue[head++]
      n = split(body[f], lines, "\n")
      returns = 0
      for (j = 1; j <= n; j++) {
        if (lines[j] ~ /[ \t]ret[a-z]*[ \t]*$/) returns = 1
        if (lines[j] ~ /[ \t]jmp[a-z]*[ \t]+[0-9a-f]+ </ && index(lines[j], "<" f) == 0) returns = 1
      }
      if (!returns) { fatal[f] = 1; continue }
      for (j = 1; j <= n; j++) {
        line = lines[j]
        if (line ~ /[ \t](call|jmp)[a-z]*[ \t]+\*/) {
          print "INDIRECT  " f ": " line; bad = 1; continue
        }
        if (line !~ /[ \t](call|jmp)[a-z]*[ \t]+[0-9a-f]+ </) continue
        target = line; sub(/^.*[0-9a-f]+ </, "", target); sub(/>$/, "", target)
        sub(/\+0x[0-9a-f]+$/, "", target)
        if (target == f) continue
        if (target ~ /protocol witness/) { print "WITNESS   " f " -> " target; bad = 1 }
        if (target ~ /^(Chunk|Batch|Check|Stats|Bypass|WrappingLayer)\.|^[^ ]*<A/) {
          generic[f " -> " target] = 1
        }
        if (!(target in seen)) {
          seen[target] = 1
          if (target ~ /@plt$/) { external[target] = 1 } else { queue[++tail] = target }
        }
      }
    }
    # A call to an unspecialized generic method is a fault unless the callee never returns.
    for (edge in generic) {
      split(edge, parts, " -> ")
      if (!(parts[2] in fatal)) { print "GENERIC   " edge; bad = 1 }
    }
    print "Functions reached from " start ":"
    for (k = 1; k <= tail; k++) {
      g = queue[k]; print "  " g (g in fatal ? "   (fatal path, not walked)" : "")
    }
    printf "External calls:"; for (e in external) printf " %s", e; print ""
    if (bad) { print "FAIL: the path is not fully specialized"; exit 1 }
    print "OK: no indirect call, no protocol witness, no unspecialized generic layer method"
  }'
