import XCTest
import NeuroTestSupport
@testable import NeuroEngine

/// A safetensors file from an (unpadded) JSON header and raw data bytes.
private func safetensorsBytes(_ header: String, _ data: [UInt8] = []) -> [UInt8] {
    let json = Array(header.utf8)
    return littleEndianBytes(UInt64(json.count), count: 8) + json + data
}

/// Little-endian bytes of 16-bit patterns, for F16 and BF16 data sections.
private func halfBytes(_ patterns: [UInt16]) -> [UInt8] {
    patterns.flatMap { littleEndianBytes(UInt64($0), count: 2) }
}

final class SafeTensorsTests: XCTestCase {
    private func sampleTensors() throws -> [(String, Tensor)] {
        [
            ("f32", try Tensor([1.5, -2, 3.25, 0, 1e-3, -7], shape: [2, 3])),
            ("f64", try Tensor(float64: [Double.pi, -1e-300, .greatestFiniteMagnitude], shape: [3])),
            ("i64", try Tensor(ints: [0, -1, 1 << 40, Int(Int64.min), Int(Int64.max)], shape: [5, 1])),
            ("i32", try Tensor(ints: [7, Int(Int32.min), Int(Int32.max)], shape: [3], dtype: .int32)),
            ("scalar", Tensor(scalar: 42)),
            ("empty", try Tensor.zeros([0, 3])),
        ]
    }

    private func assertSameTensors(_ file: SafeTensorsFile, _ expected: [(String, Tensor)],
                                   file source: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(file.order, expected.map { $0.0 }, file: source, line: line)
        for (name, tensor) in expected {
            guard let got = file.tensors[name] else {
                XCTFail("missing tensor '\(name)'", file: source, line: line)
                continue
            }
            XCTAssertEqual(got.dtype, tensor.dtype, name, file: source, line: line)
            XCTAssertEqual(got.shape, tensor.shape, name, file: source, line: line)
            if tensor.dtype.isFloatingPoint {
                XCTAssertEqual(got.toDoubles(), tensor.toDoubles(), name, file: source, line: line)
            } else {
                XCTAssertEqual(got.toInts(), tensor.toInts(), name, file: source, line: line)
            }
        }
    }

    // MARK: - Round trips

    func testRoundTripEveryDTypeInMemory() throws {
        let tensors = try sampleTensors()
        let file = try SafeTensors.decode(try SafeTensors.encode(tensors), source: "memory")
        assertSameTensors(file, tensors)
        XCTAssertEqual(file.metadata, [:])
    }

    func testRoundTripThroughFileKeepsOrderAndMetadata() throws {
        let path = try temporaryDirectory(self) + "/model.safetensors"
        let tensors = Array(try sampleTensors().reversed())
        let metadata = ["format": "pt", "note": "quote \" backslash \\ newline \n tab \t ü 🙂", "ctl": "\u{01}"]
        try SafeTensors.write(tensors, metadata: metadata, to: path)
        let file = try SafeTensors.read(path)
        assertSameTensors(file, tensors)
        XCTAssertEqual(file.metadata, metadata)
    }

    func testOddNamesRoundTrip() throws {
        let x = try Tensor([1], shape: [1])
        let names = ["", "a.b/c", "quote\"d", "slash\\", "ünï 🙂", "line\nbreak", "__metadata"]
        let file = try SafeTensors.decode(try SafeTensors.encode(names.map { ($0, x) }), source: "memory")
        XCTAssertEqual(file.order, names)
    }

    func testHeaderLayoutMatchesReferenceImplementation() throws {
        let bytes = try SafeTensors.encode([("x", try Tensor([1, -2], shape: [2]))], metadata: ["b": "2", "a": "1"])
        let json = #"{"__metadata__":{"a":"1","b":"2"},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let padded = json + String(repeating: " ", count: (8 - json.utf8.count % 8) % 8)
        XCTAssertEqual(padded.utf8.count % 8, 0)
        XCTAssertEqual(bytes, littleEndianBytes(UInt64(padded.utf8.count), count: 8) + Array(padded.utf8)
                       + [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0])
    }

    func testNoTensorsGivesEmptyObject() throws {
        let bytes = try SafeTensors.encode([])
        XCTAssertEqual(bytes, littleEndianBytes(8, count: 8) + Array("{}      ".utf8))
        let file = try SafeTensors.decode(bytes, source: "memory")
        XCTAssertEqual(file.order, [])
        XCTAssertTrue(file.tensors.isEmpty)
    }

    func testNonContiguousTensorIsWrittenByValue() throws {
        let x = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]).transposed(0, 1)
        XCTAssertFalse(x.isContiguous)
        let file = try SafeTensors.decode(try SafeTensors.encode([("t", x)]), source: "memory")
        XCTAssertEqual(file.tensors["t"]?.shape, [3, 2])
        XCTAssertEqual(file.tensors["t"]?.toFloats(), [1, 4, 2, 5, 3, 6])
    }

    func testZeroSizedTensorHasEmptyRange() throws {
        let bytes = try SafeTensors.encode([("e", try Tensor.zeros([2, 0, 4])), ("x", try Tensor([5], shape: [1]))])
        let header = String(decoding: bytes[8..<(bytes.count - 4)], as: UTF8.self)
        XCTAssertTrue(header.contains(#""e":{"dtype":"F32","shape":[2,0,4],"data_offsets":[0,0]}"#), header)
        XCTAssertTrue(header.contains(#""data_offsets":[0,4]"#), header)
        let file = try SafeTensors.decode(bytes, source: "memory")
        XCTAssertEqual(file.tensors["e"]?.shape, [2, 0, 4])
        XCTAssertEqual(file.tensors["x"]?.toFloats(), [5])
    }

    func testWriteReplacesExistingFileWithoutLeavingTemporaries() throws {
        let directory = try temporaryDirectory(self)
        let path = directory + "/w.safetensors"
        try SafeTensors.write([("a", try Tensor([1], shape: [1]))], to: path)
        try SafeTensors.write([("b", try Tensor([2, 3], shape: [2]))], to: path)
        XCTAssertEqual(try SafeTensors.read(path).order, ["b"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["w.safetensors"])
    }

    // MARK: - Half precision

    func testFloat16BitPatterns() throws {
        let patterns: [UInt16] = [0x3C00, 0xC000, 0x7C00, 0xFC00, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x8000, 0x3555, 0x7E00]
        let header = #"{"h":{"dtype":"F16","shape":[11],"data_offsets":[0,22]}}"#
        let file = try SafeTensors.decode(safetensorsBytes(header, halfBytes(patterns)), source: "memory")
        let h = try XCTUnwrap(file.tensors["h"])
        XCTAssertEqual(h.dtype, .float32)
        let values = h.toFloats()
        XCTAssertEqual(Array(values[0..<10]), [1, -2, .infinity, -.infinity, 0x1p-24, 0x3FFp-24, 0x1p-14, 65504, 0, 0.333251953125])
        XCTAssertEqual(values[1], -2)
        XCTAssertEqual(values[4], 5.9604645e-8)
        XCTAssertEqual(values[8].sign, .minus, "0x8000 is negative zero")
        XCTAssertTrue(values[10].isNaN)
    }

    func testBFloat16BitPatterns() throws {
        let patterns: [UInt16] = [0x3F80, 0xC040, 0x7F80, 0xFF80, 0x0001, 0x7FC0, 0x4049]
        let header = #"{"b":{"dtype":"BF16","shape":[7],"data_offsets":[0,14]}}"#
        let file = try SafeTensors.decode(safetensorsBytes(header, halfBytes(patterns)), source: "memory")
        let values = try XCTUnwrap(file.tensors["b"]).toFloats()
        XCTAssertEqual(Array(values[0..<5]), [1, -3, .infinity, -.infinity, Float(bitPattern: 0x0001_0000)])
        XCTAssertTrue(values[5].isNaN)
        XCTAssertEqual(values[6], 3.140625)
    }

    #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    func testHalfToFloatAgreesWithFloat16ForEveryPattern() {
        for bits in UInt16.min...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let got = halfToFloat(bits)
            if expected.isNaN {
                XCTAssertTrue(got.isNaN, "pattern \(bits)")
            } else if got.bitPattern != expected.bitPattern {
                XCTFail("pattern \(String(bits, radix: 16)): \(got) != \(expected)")
                return
            }
        }
    }
    #endif

    // MARK: - Python cross-check

    func testReadsFileWrittenByPythonSafetensors() throws {
        let file = try SafeTensors.read(fixturePath("io_reference.safetensors"))
        XCTAssertEqual(file.metadata, ["format": "pt", "note": "x"])
        XCTAssertEqual(file.order, ["i64", "f64", "empty", "f32", "scalar", "i32", "bf16", "f16"])
        let t = file.tensors
        XCTAssertEqual(t["f32"]?.dtype, .float32)
        XCTAssertEqual(t["f32"]?.shape, [2, 3])
        XCTAssertEqual(t["f32"]?.toFloats(), [1.5, -2, 3.25, 0, 1e-3, -7])
        XCTAssertEqual(t["f64"]?.dtype, .float64)
        XCTAssertEqual(t["f64"]?.toDoubles(), [3.141592653589793, -1e-300])
        XCTAssertEqual(t["f16"]?.dtype, .float32)
        XCTAssertEqual(t["f16"]?.toFloats(), [1, -2, 65504, 0x1p-24, .infinity])
        XCTAssertEqual(t["bf16"]?.shape, [2, 2])
        XCTAssertEqual(t["bf16"]?.toFloats(), [1, -0.5, 0x1p100, 0])
        XCTAssertEqual(t["i64"]?.dtype, .int64)
        XCTAssertEqual(t["i64"]?.toInts(), [0, -1, 1 << 40, -(1 << 62)])
        XCTAssertEqual(t["i32"]?.dtype, .int32)
        XCTAssertEqual(t["i32"]?.shape, [3, 1])
        XCTAssertEqual(t["i32"]?.toInts(), [7, Int(Int32.min), Int(Int32.max)])
        XCTAssertEqual(t["scalar"]?.shape, [])
        XCTAssertEqual(t["scalar"]?.toFloats(), [42])
        XCTAssertEqual(t["empty"]?.shape, [0, 3])
    }

    func testRewritingPythonFileKeepsItsValues() throws {
        let original = try SafeTensors.read(fixturePath("io_reference.safetensors"))
        let bytes = try SafeTensors.encode(original.order.compactMap { name in original.tensors[name].map { (name, $0) } },
                                           metadata: original.metadata)
        let again = try SafeTensors.decode(bytes, source: "memory")
        XCTAssertEqual(again.order, original.order)
        XCTAssertEqual(again.metadata, original.metadata)
        for name in original.order {
            XCTAssertEqual(again.tensors[name]?.toDoubles(), original.tensors[name]?.toDoubles(), name)
        }
    }

    // MARK: - Errors

    func testRefusesMalformedFiles() throws {
        let cases: [([UInt8], String)] = [
            ([1, 2, 3], "t: file is 3 bytes long, too short for a safetensors header (needs at least 8)"),
            (littleEndianBytes(100, count: 8) + Array("{}  ".utf8),
             "t: header length 100 exceeds the 4 bytes that follow it; the file is truncated or not safetensors"),
            (safetensorsBytes(#"{"a": "#), "t: header is not valid JSON: unexpected end at byte 6"),
            (safetensorsBytes(#"{"a": 1,}"#), "t: header is not valid JSON: expected a string key at byte 8"),
            (safetensorsBytes(#"{"a": tru}"#), "t: header is not valid JSON: unexpected word 'tru' at byte 6"),
            (safetensorsBytes("{} x"), "t: header is not valid JSON: unexpected text after the value at byte 3"),
            (littleEndianBytes(3, count: 8) + [0x22, 0xFF, 0x22], "t: header is not valid JSON: string is not valid UTF-8 at byte 3"),
            (safetensorsBytes(String(repeating: "[", count: 100)), "t: header is not valid JSON: nesting deeper than 64"),
            (safetensorsBytes("[1, 2]"), "t: header is not a JSON object"),
            (safetensorsBytes(#"{"a": 3}"#), "t: entry for tensor 'a' is not a JSON object"),
            (safetensorsBytes(#"{"a": {"shape": [1], "data_offsets": [0, 4]}}"#), #"t: tensor 'a' has no string "dtype""#),
            (safetensorsBytes(#"{"a": {"dtype": 5, "shape": [1], "data_offsets": [0, 4]}}"#), #"t: tensor 'a' has no string "dtype""#),
            (safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#),
             #"t: tensor 'a' has no "shape" list of integers"#),
            (safetensorsBytes(#"{"a": {"dtype": "F32", "shape": "1", "data_offsets": [0, 4]}}"#),
             #"t: tensor 'a' has no "shape" list of integers"#),
            (safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}"#),
             #"t: tensor 'a' has no "data_offsets" pair of integers"#),
            (safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [1]}}"#), #"t: tensor 'a' has no "data_offsets" pair of integers"#),
            (safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [2, -1], "data_offsets": [0, 4]}}"#),
             "t: tensor 'a' has a negative dimension -1 in shape [2, -1]"),
            (safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}}"#),
             "t: tensor 'a' has a shape [4294967296, 4294967296] too large to hold"),
            (safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}"#, [0, 0, 0, 0, 0, 0, 0, 0]),
             "t: tensor 'a' has data_offsets [0, 4] spanning 4 bytes, but shape [2] of F32 needs 8"),
            (safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}"#, [0, 0, 0, 0, 0, 0, 0, 0]),
             "t: tensor 'a' has invalid data_offsets [8, 4]"),
            (safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, [0, 0, 0, 0]),
             "t: tensor 'a' has data_offsets [0, 8] past the end of the data (4 bytes); the file is truncated"),
            (safetensorsBytes(#"{"x": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}"#, [0]),
             "t: tensor 'x' has dtype U8, which is not supported (supported: F32, F64, F16, BF16, I64, I32)"),
            (safetensorsBytes(#"{"m": {"dtype": "BOOL", "shape": [1], "data_offsets": [0, 1]}}"#, [0]),
             "t: tensor 'm' has dtype BOOL, which is not supported"),
            (safetensorsBytes(#"{"__metadata__": {"k": 1}}"#), "t: __metadata__ value for key 'k' is not a string"),
            (safetensorsBytes(#"{"__metadata__": ["k"]}"#), "t: __metadata__ is not a JSON object"),
            (safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}, "a": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}"#),
             "t: tensor 'a' appears twice in the header"),
        ]
        for (bytes, message) in cases {
            assertThrows(message) { try SafeTensors.decode(bytes, source: "t") }
        }
    }

    func testTruncatedFileIsReported() throws {
        let bytes = try SafeTensors.encode([("w", try Tensor([1, 2, 3], shape: [3]))])
        assertThrows("t: tensor 'w' has data_offsets [0, 12] past the end of the data (11 bytes); the file is truncated") {
            try SafeTensors.decode(Array(bytes.dropLast()), source: "t")
        }
    }

    func testHeaderAcceptsWhitespaceEscapesAndGaps() throws {
        // Pretty-printed JSON, escaped names, a gap before the data and unused trailing bytes.
        let header = "\n{ \"\\u00fc\\ud83d\\ude42\\n\" : {\"data_offsets\": [4, 8], \"shape\": [1], \"dtype\": \"F32\"} }  "
        let file = try SafeTensors.decode(safetensorsBytes(header, [9, 9, 9, 9, 0, 0, 0x80, 0x3F, 7]), source: "t")
        XCTAssertEqual(file.order, ["ü🙂\n"])
        XCTAssertEqual(file.tensors["ü🙂\n"]?.toFloats(), [1])
    }

    func testRefusesBadTensorListsOnWrite() throws {
        let directory = try temporaryDirectory(self)
        let x = try Tensor([1], shape: [1])
        assertThrows("\(directory)/d.safetensors: duplicate tensor name 'a'") {
            try SafeTensors.write([("a", x), ("b", x), ("a", x)], to: directory + "/d.safetensors")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/d.safetensors"))
        assertThrows("SafeTensors.encode: the name '__metadata__' is reserved for metadata") {
            try SafeTensors.encode([("__metadata__", x)])
        }
    }

    func testFileSystemErrorsNameThePath() throws {
        let directory = try temporaryDirectory(self)
        let missing = directory + "/missing.safetensors"
        assertThrows("\(missing): no such file") { try SafeTensors.read(missing) }
        assertThrows("\(directory): is a directory") { try SafeTensors.read(directory) }
        let nowhere = directory + "/no/such/dir/x.safetensors"
        assertThrows("\(nowhere): cannot write: No such file or directory") {
            try SafeTensors.write([], to: nowhere)
        }
        assertThrows("\(directory): cannot write: Is a directory") { try writeAtomically([1], to: directory) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
    }

    // MARK: - Files larger than what they hold, or than memory

    /// A 100 GB sparse file whose header describes a few bytes: only the
    /// header and those bytes are read.
    func testHugeSparseFileIsReadByItsHeader() throws {
        let path = try temporaryDirectory(self) + "/sparse.safetensors"
        try writeSparse(try SafeTensors.encode([("w", try Tensor([1, 2, 3], shape: [3]))]), size: 100 << 30, to: path)
        let file = try SafeTensors.read(path)
        XCTAssertEqual(file.tensors["w"]?.toFloats(), [1, 2, 3])
    }

    /// A header that declares more data than the file holds is refused
    /// before any tensor is read or allocated.
    func testHeaderClaimingMoreThanTheFileHasIsRefused() throws {
        let path = try temporaryDirectory(self) + "/liar.safetensors"
        try writeAtomically(safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [1000, 1000], "data_offsets": [0, 4000000]}}"#, [1, 2, 3, 4]), to: path)
        assertThrows("\(path): tensor 'a' has data_offsets [0, 4000000] past the end of the data (4 bytes); the file is truncated") {
            try SafeTensors.read(path)
        }
        // The header length itself is checked against the file and the format's limit before the header is read.
        let long = path + ".long"
        try writeSparse(littleEndianBytes(200_000_000, count: 8), size: 1 << 30, to: long)
        XCTAssertThrowsError(try SafeTensors.read(long)) { error in
            XCTAssertEqual("\(error)", "\(long): header length 200000000 is more than the 100000000 bytes a safetensors header may have")
        }
    }

    /// A tensor that is in the file but could not fit in memory is refused
    /// with its name and size, not allocated.
    func testTensorTooLargeForMemoryIsRefused() throws {
        let path = try temporaryDirectory(self) + "/huge.safetensors"
        let bytes = safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [1000000, 1000000], "data_offsets": [0, 4000000000000]}}"#)
        try writeSparse(bytes, size: bytes.count + 4_000_000_000_000, to: path)
        XCTAssertThrowsError(try SafeTensors.read(path)) { error in
            XCTAssertEqual("\(error)", "\(path): tensor 'a' of shape [1000000, 1000000] (4 TB) is too large to allocate (more than half of this machine's memory)")
        }
    }

    /// Half floats and big blocks are converted a block at a time; the values are the same.
    func testConvertedTensorsSpanningManyBlocksReadCorrectly() throws {
        let n = 200_000
        let patterns = (0..<n).map { UInt16(truncatingIfNeeded: 0x3C00 + $0 % 1024) }   // 1 + fraction: finite halves
        let bytes = safetensorsBytes("{\"h\": {\"dtype\": \"F16\", \"shape\": [\(n)], \"data_offsets\": [0, \(2 * n)]}}", halfBytes(patterns))
        let path = try temporaryDirectory(self) + "/half.safetensors"
        try writeAtomically(bytes, to: path)
        let values = try XCTUnwrap(SafeTensors.read(path).tensors["h"]).toFloats()
        XCTAssertEqual(values, patterns.map(halfToFloat))
    }

    func testReadFileBytesRoundTrip() throws {
        let path = try temporaryDirectory(self) + "/bytes.bin"
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try writeAtomically(bytes, to: path)
        XCTAssertEqual(try readFileBytes(path), bytes)
        try writeAtomically([], to: path)
        XCTAssertEqual(try readFileBytes(path), [])
    }
}
