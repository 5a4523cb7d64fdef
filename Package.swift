// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "Recur",
  // MARK: - Platforms
  // The oldest releases with every API the code uses (ContinuousClock: macOS 13, iOS 16). On iOS the
  // library `Recur` is the product; the `recur` tool and the examples are for macOS and Linux.
  platforms: [.macOS(.v13), .iOS(.v16)],
  // MARK: - Public products
  products: [
    .library(name: "Recur", targets: ["Recur"]),
    .executable(name: "recur", targets: ["recur"]),
  ],
  // MARK: - Traits
  // MPI: data-parallel training over the MPI C API (`swift build --traits MPI`; needs an MPI such as Open MPI
  // or MPICH, found through pkg-config). Off by default, so the package builds without MPI.
  traits: [.trait(name: "MPI", description: "Data-parallel training over MPI (needs libopenmpi-dev or MPICH).")],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
  ],
  targets: [
    // MARK: - Implementation targets
    .target(
      name: "_RecurKernels",
      cSettings: [.define("_GNU_SOURCE")]
    ),
    .target(
      name: "Recur",
      dependencies: ["_RecurKernels", .target(name: "_RecurMPI", condition: .when(traits: ["MPI"]))]
    ),
    // ONNX export, TensorBoard event files and model folders: the only target that needs swift-protobuf,
    // so that the core library builds without it. Sources/RecurExport/Generated is made by
    // scripts/generate-protos.sh from Sources/RecurExport/Schemas.
    .target(
      name: "RecurExport",
      dependencies: ["Recur", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
      exclude: ["Schemas"]
    ),
    // MARK: - MPI (built only with the MPI trait; pkg-config "mpi" is Debian's name for the default MPI,
    // Open MPI or MPICH)
    .systemLibrary(
      name: "CMPI", pkgConfig: "mpi",
      providers: [.apt(["libopenmpi-dev"]), .brew(["open-mpi"])]
    ),
    .target(name: "_RecurMPI", dependencies: ["CMPI"]),
    .executableTarget(
      name: "recur",
      dependencies: [
        "Recur",
        "RecurExport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // MARK: - Examples (built by `swift build`; run with `swift run <name>`)
    .executableTarget(name: "ParityExample", dependencies: ["Recur"], path: "Examples/Parity"),
    .executableTarget(name: "SensorStreamExample", dependencies: ["Recur"], path: "Examples/SensorStream"),
    .executableTarget(
      name: "PyTorchTextExample", dependencies: ["Recur"], path: "Examples/PyTorchText",
      exclude: ["make_checkpoint.py", "Resources/machines.txt"], resources: [.copy("Resources/machines.safetensors")]),
    // Writes ONNX models with Recur's own outputs for scripts/check_onnx.py (run by .ci/run).
    .executableTarget(name: "ONNXReference", dependencies: ["Recur", "RecurExport"], path: "Tests/ONNXReference"),
    // MARK: - Tests
    .testTarget(
      name: "RecurTests",
      dependencies: ["Recur", "RecurExport", "_RecurKernels", "recur"],
      resources: [.copy("Fixtures")]
    ),
  ]
)
