import RegionMacrosSupport

#if canImport(Glibc)
  import Glibc
#endif

// The interposer's calls into Swift (declared weak in RegionMacrosSupport.h): each is called
// only after `regions_hook_start`, with the re-entry guard, the runtime depth and the caller's
// library already checked by the interposer.

@_cdecl("regions_route_malloc")
func _routeMalloc(_ byteCount: Int, _ caller: UnsafeRawPointer?) -> UnsafeMutableRawPointer? {
  _Hook.malloc(byteCount)
}

@_cdecl("regions_route_allocate")
func _routeAllocate(_ byteCount: Int, _ alignment: Int, _ caller: UnsafeRawPointer?)
  -> UnsafeMutableRawPointer?
{
  _Hook.allocate(byteCount, alignment)
}

@_cdecl("regions_route_free")
func _routeFree(_ pointer: UnsafeMutableRawPointer) {
  if !_Hook.deallocate(pointer) { regions_ground_free(pointer) }
}

@_cdecl("regions_route_usable_size")
func _routeUsableSize(_ pointer: UnsafeMutableRawPointer) -> Int {
  _Hook.usableSize(pointer)
}

@_cdecl("regions_route_reallocate")
func _routeReallocate(
  _ pointer: UnsafeMutableRawPointer, _ byteCount: Int, _ caller: UnsafeRawPointer?
)
  -> UnsafeMutableRawPointer?
{
  _Hook.reallocate(pointer, byteCount)
}
