import Foundation

/// A line chart of one or more named series, drawn as a self-contained SVG document: training and
/// validation loss curves, gradient norms through time, and the like.
///
/// The output is deterministic (the same plot gives the same bytes on every platform): coordinates are
/// written with two decimals, colours come from a fixed palette in series order, and no dates or random
/// identifiers are embedded. Points whose y is not finite (or not positive on a logarithmic axis) are left
/// out and break the line there.
public struct LinePlot: Sendable, Equatable {
  /// The scale of the y axis.
  public enum Scale: String, Sendable, Equatable, CaseIterable {
    /// Evenly spaced values, ticks at "nice" steps (1, 2 or 5 × 10^k).
    case linear
    /// Base-10 logarithmic, ticks at powers of ten.
    case log10
  }

  /// One named line.
  public struct Series: Sendable, Equatable {
    /// The name shown in the legend.
    public var name: String
    /// The x coordinates.
    public var x: [Double]
    /// The y coordinates, one per x.
    public var y: [Double]

    /// A series from matching x and y coordinates.
    public init(name: String, x: [Double], y: [Double]) {
      self.name = name
      self.x = x
      self.y = y
    }

    /// A series with x = 1, 2, …, n (time steps t = 1 … n, or training steps).
    public init(name: String, y: [Double]) {
      self.init(name: name, x: y.indices.map { Double($0 + 1) }, y: y)
    }
  }

  /// The title above the plot.
  public var title: String
  /// The x-axis title.
  public var xLabel: String
  /// The y-axis title.
  public var yLabel: String
  /// The y-axis scale.
  public var yScale: Scale
  /// The lines, drawn in order (later lines on top).
  public var series: [Series]
  /// The size of the drawing in pixels.
  public var width: Int
  /// The height of the drawing in pixels.
  public var height: Int

  /// A plot with the given titles and series.
  public init(
    title: String, xLabel: String, yLabel: String, yScale: Scale = .linear, series: [Series] = [],
    width: Int = 720, height: Int = 440
  ) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.yScale = yScale
    self.series = series
    self.width = width
    self.height = height
  }

  /// The colours of series 1, 2, … (repeating after the last).
  public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

  /// The plot as an SVG document.
  ///
  /// - Throws: ``PlotError`` when a series has x and y of different lengths, when no series has a point that
  ///   can be drawn, or when the size is too small to hold the axes.
  public func svg() throws(PlotError) -> String {
    guard width >= 200, height >= 150 else { throw .tooSmall(width: width, height: height) }
    for s in series where s.x.count != s.y.count {
      throw .mismatchedSeries(name: s.name, xCount: s.x.count, yCount: s.y.count)
    }
    let drawable = series.map { s in
      zip(s.x, s.y).map { (x, y) -> (Double, Double)? in
        guard x.isFinite, y.isFinite, yScale == .linear || y > 0 else { return nil }
        return (x, yScale == .log10 ? Foundation.log10(y) : y)
      }
    }
    let points = drawable.flatMap { $0.compactMap { $0 } }
    guard !points.isEmpty else { throw .noData }

    // Data ranges, widened when degenerate.
    var (x0, x1) = (points.map(\.0).min()!, points.map(\.0).max()!)
    if x0 == x1 { (x0, x1) = (x0 - 1, x1 + 1) }
    var (y0, y1) = (points.map(\.1).min()!, points.map(\.1).max()!)
    let yTicks: [(value: Double, label: String)]
    switch yScale {
    case .log10:
      y0 = Foundation.floor(y0)
      y1 = Foundation.ceil(y1)
      if y0 == y1 { y1 = y0 + 1 }
      let decades = Int(y1 - y0)
      let every = max(1, (decades + 7) / 8)
      yTicks = stride(from: Int(y0), through: Int(y1), by: every).map { (Double($0), Self.powerOfTenLabel($0)) }
    case .linear:
      if y0 == y1 { (y0, y1) = (y0 - 1, y1 + 1) }
      let ticks = Self.niceTicks(low: y0, high: y1)
      y0 = min(y0, ticks.values.first!)
      y1 = max(y1, ticks.values.last!)
      yTicks = ticks.values.map { ($0, Self.format($0, decimals: ticks.decimals)) }
    }
    let xTickSet = Self.niceTicks(low: x0, high: x1)
    let xTicks = xTickSet.values.filter { $0 >= x0 - 1e-9 * abs(x1 - x0) && $0 <= x1 + 1e-9 * abs(x1 - x0) }

    // Plot area.
    let left = 78.0, right = Double(width) - 24, top = 44.0, bottom = Double(height) - 56
    func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * (right - left) }
    func py(_ y: Double) -> Double { bottom - (y - y0) / (y1 - y0) * (bottom - top) }
    let f = { (v: Double) in Self.format(v, decimals: 2) }

    var out = Self.header(width: width, height: height, title: title, titleY: 24)
    // Grid and tick labels.
    out.append("<g stroke=\"#e0e0e0\" stroke-width=\"1\">")
    for t in yTicks { out.append("<line x1=\"\(f(left))\" y1=\"\(f(py(t.value)))\" x2=\"\(f(right))\" y2=\"\(f(py(t.value)))\"/>") }
    for t in xTicks { out.append("<line x1=\"\(f(px(t)))\" y1=\"\(f(top))\" x2=\"\(f(px(t)))\" y2=\"\(f(bottom))\"/>") }
    out.append("</g>")
    out.append("<g fill=\"#333\">")
    for t in yTicks {
      out.append("<text x=\"\(f(left - 6))\" y=\"\(f(py(t.value) + 4))\" text-anchor=\"end\">\(t.label)</text>")
    }
    for t in xTicks {
      out.append(
        "<text x=\"\(f(px(t)))\" y=\"\(f(bottom + 18))\" text-anchor=\"middle\">\(Self.format(t, decimals: xTickSet.decimals))</text>")
    }
    out.append("</g>")
    out.append(
      "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(right - left))\" height=\"\(f(bottom - top))\" fill=\"none\" stroke=\"#333\"/>"
    )
    // Axis titles.
    out.append(
      "<text x=\"\(f((left + right) / 2))\" y=\"\(f(Double(height) - 14))\" text-anchor=\"middle\">\(Self.escaped(xLabel))</text>")
    let yTitle = yScale == .log10 ? "\(yLabel) (log scale)" : yLabel
    out.append(
      "<text x=\"18\" y=\"\(f((top + bottom) / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(f((top + bottom) / 2)))\">\(Self.escaped(yTitle))</text>"
    )
    // Lines: one path per unbroken run of drawable points.
    for (k, runs) in drawable.enumerated() {
      let colour = Self.palette[k % Self.palette.count]
      var paths: [String] = []
      var current: [String] = []
      for p in runs {
        if let (x, y) = p {
          current.append("\(current.isEmpty ? "M" : "L")\(f(px(x))),\(f(py(y)))")
        } else if !current.isEmpty {
          paths.append(current.joined(separator: " "))
          current = []
        }
      }
      if !current.isEmpty { paths.append(current.joined(separator: " ")) }
      out.append("<g stroke=\"\(colour)\" stroke-width=\"2\" fill=\"none\" stroke-linejoin=\"round\">")
      for path in paths {
        if path.contains("L") {
          out.append("<path d=\"\(path)\"/>")
        } else {
          // A single point: a short mark so it stays visible.
          let xy = path.dropFirst().split(separator: ",")
          out.append("<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"2.5\" fill=\"\(colour)\"/>")
        }
      }
      out.append("</g>")
    }
    // Legend, top right inside the plot area.
    if !series.isEmpty {
      let longest = series.map(\.name.count).max() ?? 0
      let boxWidth = 34 + 7 * Double(longest), boxHeight = 8 + 18 * Double(series.count)
      let bx = right - boxWidth - 8, by = top + 8
      out.append(
        "<rect x=\"\(f(bx))\" y=\"\(f(by))\" width=\"\(f(boxWidth))\" height=\"\(f(boxHeight))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999\"/>"
      )
      for (k, s) in series.enumerated() {
        let ly = by + 15 + 18 * Double(k)
        out.append(
          "<line x1=\"\(f(bx + 6))\" y1=\"\(f(ly - 4))\" x2=\"\(f(bx + 24))\" y2=\"\(f(ly - 4))\" stroke=\"\(Self.palette[k % Self.palette.count])\" stroke-width=\"2.5\"/>"
        )
        out.append("<text x=\"\(f(bx + 29))\" y=\"\(f(ly))\">\(Self.escaped(s.name))</text>")
      }
    }
    out.append("</svg>")
    return out.joined(separator: "\n") + "\n"
  }

  /// Writes ``svg()`` to a file.
  public func write(to url: URL) throws {
    try svg().write(to: url, atomically: true, encoding: .utf8)
  }

  /// Ticks at multiples of 1, 2 or 5 × 10^k covering [low, high] with about five intervals, and the number of
  /// decimals their labels need.
  static func niceTicks(low: Double, high: Double) -> (values: [Double], decimals: Int) {
    let span = high - low
    let raw = span / 5
    let magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw * 0.999 } ?? 10 * magnitude
    let first = Foundation.floor(low / step + 1e-9) * step
    let last = Foundation.ceil(high / step - 1e-9) * step
    let count = Int(((last - first) / step).rounded())
    let decimals = max(0, -Int(Foundation.floor(Foundation.log10(step) + 1e-9)))
    return ((0...count).map { first + Double($0) * step }, decimals)
  }

  /// "0.001", "0.01", "0.1", "1", "10", "100", "1000" for |k| ≤ 3; "1e-5", "1e6" beyond.
  static func powerOfTenLabel(_ k: Int) -> String {
    switch k {
    case -3...(-1): "0." + String(repeating: "0", count: -k - 1) + "1"
    case 0...3: "1" + String(repeating: "0", count: k)
    default: "1e\(k)"
    }
  }

  /// A number with a fixed count of decimals, '.' as separator whatever the locale, and no "-0".
  /// The opening lines of an SVG figure: the `<svg>` element (width × height, the plots' font), a white
  /// background, and the title centred at `titleY`.
  static func header(width: Int, height: Int, title: String, titleY: Int) -> [String] {
    [
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">",
      "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"white\"/>",
      "<text x=\"\(format(Double(width) / 2, decimals: 2))\" y=\"\(titleY)\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(escaped(title))</text>",
    ]
  }

  static func format(_ value: Double, decimals: Int) -> String {
    let s = String(format: "%.\(decimals)f", value)
    if s.hasPrefix("-"), s.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { return String(s.dropFirst()) }
    return s
  }

  /// Text with the XML special characters escaped.
  static func escaped(_ text: String) -> String {
    var out = ""
    for c in text {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      default: out.append(c)
      }
    }
    return out
  }
}

/// A plot that cannot be drawn.
public enum PlotError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A series has different numbers of x and y coordinates.
  case mismatchedSeries(name: String, xCount: Int, yCount: Int)
  /// No series has a point that can be drawn (all empty, not finite, or not positive on a log axis).
  case noData
  /// The requested size cannot hold the axes.
  case tooSmall(width: Int, height: Int)

  public var description: String {
    switch self {
    case .mismatchedSeries(let name, let x, let y): "series '\(name)' has \(x) x values but \(y) y values"
    case .noData: "nothing to plot: no series has a finite point (positive, on a log scale)"
    case .tooSmall(let w, let h): "a plot of \(w)×\(h) pixels is too small (at least 200×150)"
    }
  }
}
