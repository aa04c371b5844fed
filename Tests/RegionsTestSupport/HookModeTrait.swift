import Layers
public import Testing

extension Trait where Self == ConditionTrait {
  /// Runs a test or suite only in builds that interpose the malloc family: hook-mode code
  /// cannot run under ASan and TSan, which compile the hook out.
  public static var hookMode: Self {
    .enabled(if: _mallocHookIsCompiled, "the malloc hook is compiled out under ASan and TSan")
  }
}
