public import Layers

/// The layer `Region.measure` puts over the body's region: counts what the program asked for
/// (sizes as it passed them to malloc, read from the runtime: the thread's context on allocate,
/// the block's header on deallocate), and passes everything on.
@usableFromInline
struct _MeasuringLayer<Parent: Layer>: WrappingLayer {
  @usableFromInline var parent: Parent
  @usableFromInline var allocations = 0
  @usableFromInline var deallocations = 0
  @usableFromInline var bytesAllocated = 0
  @usableFromInline var liveBytes = 0
  @usableFromInline var peakLiveBytes = 0

  @inlinable
  init(@LayerBuilder parent: () -> Parent) { self.parent = parent() }

  @inlinable
  mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    let asked = _programByteCount(byteCount, alignment: alignment)
    guard let block = parent.allocateUncleared(byteCount: byteCount, alignment: alignment) else {
      return nil
    }
    allocations &+= 1
    bytesAllocated &+= asked
    liveBytes &+= asked
    if liveBytes > peakLiveBytes { peakLiveBytes = liveBytes }
    return block
  }

  @inlinable
  mutating func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int) {
    // The runtime's header ends where the program's pointer starts: `alignment` bytes in.
    liveBytes &-= (pointer + alignment - _BlockHeader.size).load(as: Int.self)
    deallocations &+= 1
    parent.deallocate(pointer, byteCount: byteCount, alignment: alignment)
  }
}
