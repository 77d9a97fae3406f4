import Foundation
import XCTest
import NeuroTestSupport
@testable import NeuroEngine

/// An .npy file from a header dict literal (not padded) and raw data bytes.
private func npyBytes(_ dict: String, _ data: [UInt8] = [], version: UInt8 = 1) -> [UInt8] {
    let header = Array(dict.utf8)
    return [0x93] + Array("NUMPY".utf8) + [version, 0]
        + littleEndianBytes(UInt64(header.count), count: version == 1 ? 2 : 4) + header + data
}

/// Big-endian bytes of each value's low `width` bytes.
private func bigEndianBytes(_ values: [UInt64], width: Int) -> [UInt8] {
    values.flatMap { littleEndianBytes($0, count: width).reversed() }
}

final class NPYTests: XCTestCase {
    private func roundTrip(_ tensor: Tensor, file: StaticString = #filePath, line: UInt = #line) throws {
        let back = try NPY.decode(NPY.encode(tensor), source: "memory")
        XCTAssertEqual(back.dtype, tensor.dtype, file: file, line: line)
        XCTAssertEqual(back.shape, tensor.shape, file: file, line: line)
        XCTAssertEqual(back.toDoubles(), tensor.toDoubles(), file: file, line: line)
        XCTAssertEqual(back.toInts(), tensor.toInts(), file: file, line: line)
    }

    // MARK: - Round trips

    func testRoundTripEveryDType() throws {
        try roundTrip(try Tensor([1.5, -2, 3.25, 0, 1e-3, -.infinity], shape: [2, 3]))
        try roundTrip(try Tensor(float64: [Double.pi, -1e-300, .greatestFiniteMagnitude], shape: [3]))
        try roundTrip(try Tensor(ints: [0, -1, 1 << 40, Int(Int64.min), Int(Int64.max)], shape: [5, 1]))
        try roundTrip(try Tensor(ints: [7, Int(Int32.min), Int(Int32.max), 0], shape: [2, 1, 2], dtype: .int32))
        try roundTrip(Tensor(scalar: 42, dtype: .float64))
        try roundTrip(try Tensor.zeros([0, 3]))
        try roundTrip(try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]).transposed(0, 1))
    }

    func testRoundTripThroughFile() throws {
        let path = try temporaryDirectory(self) + "/x.npy"
        let x = try Tensor(float64: [1, 2, 3, 4], shape: [2, 2])
        try NPY.write(x, to: path)
        let back = try NPY.read(path)
        XCTAssertEqual(back.dtype, .float64)
        XCTAssertEqual(back.shape, [2, 2])
        XCTAssertEqual(back.toDoubles(), [1, 2, 3, 4])
    }

    func testHeaderLayout() throws {
        let expectations: [(Tensor, String)] = [
            (try Tensor.zeros([3, 4]), "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"),
            (try Tensor(ints: [1, 2, 3], shape: [3]), "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"),
            (Tensor(scalar: 1, dtype: .int32), "{'descr': '<i4', 'fortran_order': False, 'shape': (), }"),
            (try Tensor.zeros([0], dtype: .float64), "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }"),
        ]
        for (tensor, dict) in expectations {
            let bytes = NPY.encode(tensor)
            XCTAssertEqual(Array(bytes[0..<8]), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
            let length = Int(readLittleEndian(bytes, at: 8, count: 2))
            XCTAssertEqual((10 + length) % 64, 0)
            let header = String(decoding: bytes[10..<(10 + length)], as: UTF8.self)
            XCTAssertEqual(header, dict + String(repeating: " ", count: length - dict.utf8.count - 1) + "\n")
            XCTAssertEqual(bytes.count, 10 + length + tensor.count * tensor.dtype.byteSize)
        }
        XCTAssertEqual(Array(NPY.encode(try Tensor([1, -2], shape: [2])).suffix(8)), [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0])
    }

    // MARK: - Reading other layouts

    func testBigEndianAndWidenedDescrs() throws {
        let f4 = try NPY.decode(npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
                                         bigEndianBytes([0x3F80_0000, 0xC000_0000], width: 4)), source: "t")
        XCTAssertEqual(f4.dtype, .float32)
        XCTAssertEqual(f4.toFloats(), [1, -2])
        let i8 = try NPY.decode(npyBytes("{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }",
                                         bigEndianBytes([1, UInt64(bitPattern: -2)], width: 8)), source: "t")
        XCTAssertEqual(i8.dtype, .int64)
        XCTAssertEqual(i8.toInts(), [1, -2])
        let f8 = try NPY.decode(npyBytes("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",
                                         bigEndianBytes([Double.pi.bitPattern], width: 8)), source: "t")
        XCTAssertEqual(f8.toDoubles(), [Double.pi])
        let i4 = try NPY.decode(npyBytes("{'descr': '=i4', 'fortran_order': False, 'shape': (1,), }", [0xFE, 0xFF, 0xFF, 0xFF]),
                                source: "t")
        XCTAssertEqual(i4.dtype, .int32)
        XCTAssertEqual(i4.toInts(), [-2])
        let halfLE = try NPY.decode(npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }",
                                             [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00]), source: "t")
        XCTAssertEqual(halfLE.dtype, .float32)
        XCTAssertEqual(halfLE.toFloats(), [1, -2, 0x1p-24])
        let halfBE = try NPY.decode(npyBytes("{'descr': '>f2', 'fortran_order': False, 'shape': (2,), }",
                                             [0x7C, 0x00, 0x3C, 0x00]), source: "t")
        XCTAssertEqual(halfBE.toFloats(), [.infinity, 1])
        let bools = try NPY.decode(npyBytes("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", [0, 1, 1]), source: "t")
        XCTAssertEqual(bools.dtype, .float32)
        XCTAssertEqual(bools.toFloats(), [0, 1, 1])
    }

    func testHeaderVariants() throws {
        let data: [UInt8] = [1, 0, 0, 0, 2, 0, 0, 0]
        let variants: [([UInt8], String)] = [
            (npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n", data, version: 2), "version 2.0"),
            (npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n", data, version: 3), "version 3.0"),
            (npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2L,), }", data), "Python 2 long"),
            (npyBytes("{\"shape\": (2,), \"descr\": \"<i4\", \"fortran_order\": False}", data), "double quotes, other order"),
            (npyBytes("{'descr':'<i4','fortran_order':False,'shape':(2,),'extra':None}", data + [9, 9]), "extra key, trailing bytes"),
        ]
        for (bytes, label) in variants {
            let x = try NPY.decode(bytes, source: "t")
            XCTAssertEqual(x.shape, [2], label)
            XCTAssertEqual(x.toInts(), [1, 2], label)
        }
    }

    func testFortranOrderIsRearranged() throws {
        // Element (i, j, k) of a 2×3×4 array is stored at i + 2j + 6k; its row-major index is 12i + 4j + k.
        var data: [UInt8] = []
        for k in 0..<4 { for j in 0..<3 { for i in 0..<2 { data += littleEndianBytes(UInt64(12 * i + 4 * j + k), count: 4) } } }
        let x = try NPY.decode(npyBytes("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 4), }", data), source: "t")
        XCTAssertEqual(x.shape, [2, 3, 4])
        XCTAssertTrue(x.isContiguous)
        XCTAssertEqual(x.toInts(), Array(0..<24))
        let vector = try NPY.decode(npyBytes("{'descr': '<i4', 'fortran_order': True, 'shape': (2,), }", [5, 0, 0, 0, 6, 0, 0, 0]),
                                    source: "t")
        XCTAssertEqual(vector.toInts(), [5, 6])
    }

    // MARK: - Python cross-check

    func testReadsFilesWrittenByNumPy() throws {
        let f4 = try NPY.read(fixturePath("io_reference_f4.npy"))
        XCTAssertEqual(f4.dtype, .float32)
        XCTAssertEqual(f4.shape, [2, 3])
        XCTAssertEqual(f4.toFloats(), [1, 2.5, -3, 4, 0.125, 6])
        let i8 = try NPY.read(fixturePath("io_reference_i8.npy"))
        XCTAssertEqual(i8.dtype, .int64)
        XCTAssertEqual(i8.shape, [3])
        XCTAssertEqual(i8.toInts(), [1, -2, 1 << 40])
        let fortran = try NPY.read(fixturePath("io_reference_fortran.npy"))
        XCTAssertEqual(fortran.dtype, .float64)
        XCTAssertEqual(fortran.shape, [2, 3])
        XCTAssertEqual(fortran.toDoubles(), [0, 1, 2, 3, 4, 5])
    }

    func testEncodingMatchesNumPyBytes() throws {
        let ours = NPY.encode(try Tensor([1, 2.5, -3, 4, 0.125, 6], shape: [2, 3]))
        let numpy = try readFileBytes(fixturePath("io_reference_f4.npy"))
        // NumPy ≥ 1.24 pads extra spaces so the shape can grow in place; headers differ only in padding.
        let header = { (bytes: [UInt8]) in
            String(decoding: bytes[10..<(10 + Int(readLittleEndian(bytes, at: 8, count: 2)))], as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        XCTAssertEqual(header(ours), header(numpy))
        XCTAssertEqual(Array(ours.suffix(24)), Array(numpy.suffix(24)))
    }

    // MARK: - Errors

    func testRefusesMalformedFiles() throws {
        let good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        let cases: [([UInt8], String)] = [
            ([0x93, 0x4E], "t: file is 2 bytes long, too short for an .npy header"),
            (Array("PK\u{03}\u{04}not numpy at all".utf8), "t: not an .npy file (it does not start with \\x93NUMPY)"),
            (npyBytes(good, version: 4), "t: unsupported .npy format version 4.0 (supported: 1.0, 2.0, 3.0)"),
            ([0x93] + Array("NUMPY".utf8) + [2, 0, 4, 0], "t: file is 10 bytes long, too short for an .npy header"),
            ([0x93] + Array("NUMPY".utf8) + [1, 0, 0xFF, 0x00] + Array("{}".utf8),
             "t: header length 255 exceeds the 2 bytes that follow it; the file is truncated"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3}"),
             "t: malformed header: expected ',' or ')' at byte 55"),
            (npyBytes("{'descr': '<f4', 'fortran_order': false, 'shape': (2, 3)}"),
             "t: malformed header: unexpected word 'false' at byte 34"),
            (npyBytes("[1, 2]"), "t: malformed header: not a dict literal"),
            (npyBytes("{'fortran_order': False, 'shape': (2, 3)}"), "t: malformed header: no 'descr' string"),
            (npyBytes("{'descr': '<f4', 'shape': (2, 3)}"), "t: malformed header: no 'fortran_order' True or False"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': 6}"), "t: malformed header: no 'shape' tuple of integers"),
            (npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}"),
             "t: structured dtypes are not supported"),
            (npyBytes("{'descr': '<u2', 'fortran_order': False, 'shape': (2,)}"),
             "t: descr '<u2' is not supported (supported: <f4, <f8, <i8, <i4, <f2, |b1, and their big-endian forms)"),
            (npyBytes("{'descr': '|O', 'fortran_order': False, 'shape': (2,)}"), "t: descr '|O' is not supported"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}"),
             "t: header has a negative dimension -3 in shape [2, -3]"),
            (npyBytes(good, [UInt8](repeating: 0, count: 20)), "t: data is truncated: shape (2, 3) of <f4 needs 24 bytes, found 20"),
        ]
        for (bytes, message) in cases {
            assertThrows(message) { try NPY.decode(bytes, source: "t") }
        }
    }

    // MARK: - Files larger than what they hold, or than memory

    func testHugeSparseFileIsReadByItsHeader() throws {
        let path = try temporaryDirectory(self) + "/sparse.npy"
        try writeSparse(NPY.encode(try Tensor([1, 2, 3], shape: [3])), size: 100 << 30, to: path)
        XCTAssertEqual(try NPY.read(path).toFloats(), [1, 2, 3])
    }

    func testArrayTooLargeForMemoryIsRefused() throws {
        let path = try temporaryDirectory(self) + "/huge.npy"
        let bytes = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }")
        try writeSparse(bytes, size: bytes.count + 4_000_000_000_000, to: path)
        XCTAssertThrowsError(try NPY.read(path)) { error in
            XCTAssertEqual("\(error)", "\(path): the array of shape [1000000, 1000000] (4 TB) is too large to allocate (more than half of this machine's memory)")
        }
    }

    func testHeaderLengthPastTheLimitIsRefusedBeforeReading() throws {
        let path = try temporaryDirectory(self) + "/long.npy"
        try writeSparse([0x93] + Array("NUMPY".utf8) + [2, 0] + littleEndianBytes(20_000_000, count: 4), size: 100_000_000, to: path)
        XCTAssertThrowsError(try NPY.read(path)) { error in
            XCTAssertEqual("\(error)", "\(path): header length 20000000 is more than the 16777216 bytes read for an .npy header")
        }
    }

    func testBigEndianArraySpanningManyBlocksReadsCorrectly() throws {
        let values = (0..<150_000).map { UInt64($0) }
        let bytes = npyBytes("{'descr': '>i8', 'fortran_order': False, 'shape': (150000,), }", bigEndianBytes(values, width: 8))
        let path = try temporaryDirectory(self) + "/big-endian.npy"
        try writeAtomically(bytes, to: path)
        XCTAssertEqual(try NPY.read(path).toInts(), values.map { Int($0) })
    }

    func testTruncatedFileOnDisk() throws {
        let path = try temporaryDirectory(self) + "/cut.npy"
        try writeAtomically(Array(NPY.encode(try Tensor(ints: [1, 2, 3], shape: [3])).dropLast(3)), to: path)
        assertThrows("\(path): data is truncated: shape (3,) of <i8 needs 24 bytes, found 21") { try NPY.read(path) }
        assertThrows("\(path).missing: no such file") { try NPY.read(path + ".missing") }
    }
}
