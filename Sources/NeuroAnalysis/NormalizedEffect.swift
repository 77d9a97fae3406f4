/// The one rule for normalising a patch by the corruption's own effect:
/// (value − corrupted) / (clean − corrupted), 1 where a patch gives the
/// clean behaviour and 0 where it gives the corrupted one.
///
/// The ratio is undefined when the corruption does not change the metric:
/// clean and corrupted agree to within `relativeTolerance` of their size
/// (float32 forward passes leave noise of about 1e-6 there, and dividing by
/// it would print any number at all). Undefined is `nil`, never 0.
///
/// ```swift
/// NormalizedEffect.ratio(0.5, clean: 1, corrupted: 0)          // 0.5
/// NormalizedEffect.ratio(9.331, clean: 9.331, corrupted: 9.331) // nil
/// ```
public enum NormalizedEffect {
    /// How close, relative to the larger of |clean| and |corrupted|, the two
    /// may be before the corruption counts as changing nothing.
    public static let relativeTolerance = 1e-4

    /// What is printed in place of an undefined ratio.
    public static let undefinedText = "n/a (the corruption does not change the metric)"

    /// Whether clean and corrupted differ by more than float32 noise.
    public static func isDefined(clean: Double, corrupted: Double) -> Bool {
        let scale = Swift.max(Swift.abs(clean), Swift.abs(corrupted))
        return Swift.abs(clean - corrupted) > relativeTolerance * scale && (clean - corrupted).isFinite
    }

    /// (value − corrupted) / (clean − corrupted), or nil where that is undefined.
    public static func ratio(_ value: Double, clean: Double, corrupted: Double) -> Double? {
        guard isDefined(clean: clean, corrupted: corrupted) else { return nil }
        return (value - corrupted) / (clean - corrupted)
    }
}
