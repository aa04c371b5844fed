/// How the Regions runtime learns which pages serve which region: the page sources (``Mmap``,
/// ``OuterRegionPages``, ``GroundPages``, ``Guard``'s protections) call these routes once the
/// runtime has installed them, and the OS (or the ground) directly before that and in
/// programs without Regions. Plain function pointers: calling one copies nothing and retains
/// nothing.
package struct _PageRoutes {
  /// Pages for the region being served on this thread (or, when none is, straight from the OS):
  /// byte count, alignment, and whether reused pages must be cleared.
  package var acquire: @convention(c) (Int, Int, Bool) -> UnsafeMutableRawPointer?
  /// Gives back pages from `acquire`.
  package var release: @convention(c) (UnsafeMutableRawPointer, Int) -> Void
  /// Changes the protection of pages from `acquire`; false when the kernel refuses.
  package var protect: @convention(c) (UnsafeMutableRawPointer, Int, Bool) -> Bool
  /// Page blocks from the region enclosing the one being served, or the ground.
  package var acquireOuter: @convention(c) (Int, Int, Bool) -> UnsafeMutableRawPointer?
  /// Gives back blocks from `acquireOuter`.
  package var releaseOuter: @convention(c) (UnsafeMutableRawPointer, Int) -> Void

  package init(
    acquire: @convention(c) (Int, Int, Bool) -> UnsafeMutableRawPointer?,
    release: @convention(c) (UnsafeMutableRawPointer, Int) -> Void,
    protect: @convention(c) (UnsafeMutableRawPointer, Int, Bool) -> Bool,
    acquireOuter: @convention(c) (Int, Int, Bool) -> UnsafeMutableRawPointer?,
    releaseOuter: @convention(c) (UnsafeMutableRawPointer, Int) -> Void
  ) {
    self.acquire = acquire
    self.release = release
    self.protect = protect
    self.acquireOuter = acquireOuter
    self.releaseOuter = releaseOuter
  }
}

/// The routes, once the Regions runtime has started (set once, before any region opens).
@exclusivity(unchecked) nonisolated(unsafe) package var _pageRoutes: _PageRoutes? = nil
