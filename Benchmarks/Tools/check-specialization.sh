#!/usr/bin/env bash
# Checks that a release build specializes a stack's whole allocate/deallocate path: walks the
# call graph of one layerbench loop function in the disassembly and fails on any indirect call
# (`call *…`, `jmp *…`), any call to a protocol witness, and any call to an unspecialized
# generic layer method. Fatal-error paths (functions that never return: no `ret` and no tail
# call) are not walked: they build their message with the standard library's generic string
# code, and calling them is allowed. Nor is the C shim (`regions_*`), nor the page sources'
# calls out of the stack (`_Pages`, `_OuterPages`: the runtime's page routes, function
# pointers by design, or the OS): they are the boundary of the Swift stack; nor are the Swift
# runtime entry points the executable wraps (`swift_*`, RuntimeEntries.c), which forward to
# the runtime's own through a pointer from dlsym.
#
#   swift build -c release --product layerbench
#   Benchmarks/Tools/check-specialization.sh [function]   # default: cardStackPairs
#
# LAYERBENCH=path checks another build of layerbench (default .build/release/layerbench).
#
# Needs objdump (binutils) and `swift demangle` from the toolchain.
set -euo pipefail
cd "$(dirname "$0")/../.."
binary=${LAYERBENCH:-.build/release/layerbench}
root="${1:-cardStackPairs}"
[ -x "$binary" ] || { echo "build first: swift build -c release --product layerbench" >&2; exit 2; }

objdump -d --no-show-raw-insn "$binary" | swift demangle --simplified | awk -v root="$root" '
  # Collect each function body, keyed by its address (specializations share a demangled name).
  /^[0-9a-f]+ <.*>:$/ {
    address = $1; name = $0; sub(/^[0-9a-f]+ </, "", name); sub(/>:$/, "", name)
    names[address] = name
    if (start == "" && index(name, root "(") == 1) start = address
    next
  }
  address != "" && NF > 0 { body[address] = body[address] "\n" $0 }
  END {
    if (start == "") { print "no function named " root "(…) in the binary"; exit 2 }
    queue[1] = start; head = 1; tail = 1; seen[start] = 1; bad = 0
    while (head <= tail) {
      f = queue[head++]
      if (names[f] ~ /^(regions_|swift_)/ || names[f] ~ /static _(Outer)?Pages\./) { shim[f] = 1; continue }
      n = split(body[f], lines, "\n")
      returns = 0
      for (j = 1; j <= n; j++) {
        if (lines[j] ~ /[ \t]ret[a-z]*[ \t]*$/) returns = 1
        if (lines[j] ~ /[ \t]jmp[a-z]*[ \t]+[0-9a-f]+ </ && index(lines[j], "<" names[f]) == 0) returns = 1
      }
      if (!returns) { fatal[f] = 1; continue }
      for (j = 1; j <= n; j++) {
        line = lines[j]
        if (line ~ /[ \t](call|jmp)[a-z]*[ \t]+\*/) {
          print "INDIRECT  " names[f] ": " line; bad = 1; continue
        }
        if (line !~ /[ \t](call|jmp)[a-z]*[ \t]+[0-9a-f]+ </) continue
        target = line; sub(/^.*[ \t](call|jmp)[a-z]*[ \t]+/, "", target)
        split(target, parts, " "); to = sprintf("%016s", parts[1]); gsub(/ /, "0", to)
        targetName = target; sub(/^[0-9a-f]+ </, "", targetName); sub(/>$/, "", targetName)
        if (targetName ~ /\+0x[0-9a-f]+$/) continue  # a jump inside a function
        if (to == f) continue
        if (targetName ~ /protocol witness/) { print "WITNESS   " names[f] " -> " targetName; bad = 1 }
        if (targetName ~ /^(Chunk|Batch|Check|Stats|Bypass|WrappingLayer)\.|^[^ ]*<A/) {
          generic[f " " to] = 1
        }
        if (targetName ~ /@plt$/) { external[targetName] = 1; continue }
        if (!(to in seen)) { seen[to] = 1; queue[++tail] = to }
      }
    }
    # A call to an unspecialized generic method is a fault unless the callee never returns.
    for (edge in generic) {
      split(edge, parts, " ")
      if (!(parts[2] in fatal)) { print "GENERIC   " names[parts[1]] " -> " names[parts[2]]; bad = 1 }
    }
    print "Functions reached from " names[start] ":"
    for (k = 1; k <= tail; k++) {
      g = queue[k]; print "  " g "  " names[g] (g in fatal ? "   (fatal path, not walked)" : "") \
        (g in shim ? "   (C shim, not walked)" : "")
    }
    printf "External calls:"; for (e in external) printf " %s", e; print ""
    if (bad) { print "FAIL: the path is not fully specialized"; exit 1 }
    print "OK: no indirect call, no protocol witness, no unspecialized generic layer method"
  }'
