import Foundation

/// The path of `name` inside the test bundle's copied `Fixtures` folder.
func fixturePath(_ name: String) -> String {
    (Bundle.module.url(forResource: "Fixtures", withExtension: nil)?.appendingPathComponent(name).path) ?? "Fixtures/\(name)"
}
