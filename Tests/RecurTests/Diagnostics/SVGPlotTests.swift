import Foundation
import Testing

@testable import Recur

@Suite("SVG line plots")
struct SVGPlotTests {
  static func sample(scale: LinePlot.Scale) -> LinePlot {
    LinePlot(
      title: "Loss <train & valid>", xLabel: "step", yLabel: "loss", yScale: scale,
      series: [
        .init(name: "training", y: [2.0, 1.0, 0.5, 0.25, 0.125]),
        .init(name: "validation", x: [1, 3, 5], y: [2.2, 0.9, 0.3]),
      ])
  }

  @Test("the same plot gives the same bytes; the document is well-formed XML")
  func deterministicAndWellFormed() throws {
    let a = try Self.sample(scale: .log10).svg()
    let b = try Self.sample(scale: .log10).svg()
    #expect(a == b)
    #expect(a.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
    #expect(a.hasSuffix("</svg>\n"))
    #expect(a.contains("Loss &lt;train &amp; valid&gt;"))
    #expect(!a.contains("<train"))
    #expect(a.components(separatedBy: "<path ").count - 1 == 2)
    // Legend entries and axis titles.
    #expect(a.contains(">training</text>") && a.contains(">validation</text>"))
    #expect(a.contains(">loss (log scale)</text>") && a.contains(">step</text>"))
  }

  @Test("log axis: ticks at powers of ten covering the data; linear axis: nice ticks")
  func ticks() throws {
    let log = try Self.sample(scale: .log10).svg()
    // Data from 0.125 to 2.2: decades 0.1, 1 and 10.
    for label in [">0.1</text>", ">1</text>", ">10</text>"] { #expect(log.contains(label), "missing \(label)") }
    #expect(!log.contains(">0.01</text>"))
    let linear = try Self.sample(scale: .linear).svg()
    for label in [">0.0</text>", ">0.5</text>", ">2.0</text>", ">2.5</text>"] {
      #expect(linear.contains(label), "missing \(label)")
    }
    #expect(LinePlot.niceTicks(low: 1, high: 100).values == [0, 20, 40, 60, 80, 100])
    #expect(LinePlot.powerOfTenLabel(-5) == "1e-5")
    #expect(LinePlot.powerOfTenLabel(-2) == "0.01")
    #expect(LinePlot.powerOfTenLabel(3) == "1000")
  }

  @Test("a point that cannot be drawn breaks the line instead of corrupting it")
  func gapsOnLogAxis() throws {
    let plot = LinePlot(
      title: "t", xLabel: "x", yLabel: "y", yScale: .log10,
      series: [.init(name: "s", y: [1, 0.1, 0, .nan, 0.01, 0.001])])
    let svg = try plot.svg()
    #expect(svg.components(separatedBy: "<path ").count - 1 == 2)
    #expect(!svg.contains("nan") && !svg.contains("inf"))
  }

  @Test("errors: mismatched series, nothing to draw, too small")
  func errors() {
    #expect(throws: PlotError.mismatchedSeries(name: "s", xCount: 2, yCount: 1)) {
      try LinePlot(title: "", xLabel: "", yLabel: "", series: [.init(name: "s", x: [1, 2], y: [1])]).svg()
    }
    #expect(throws: PlotError.noData) {
      try LinePlot(title: "", xLabel: "", yLabel: "", yScale: .log10, series: [.init(name: "s", y: [0, -1])]).svg()
    }
    #expect(throws: PlotError.tooSmall(width: 10, height: 10)) {
      try LinePlot(title: "", xLabel: "", yLabel: "", series: [.init(name: "s", y: [1])], width: 10, height: 10).svg()
    }
  }
}
