using ScottPlot;

namespace Microsoft.ML.DynMoE.Experiments.Reports
{
    /// <summary>
    /// Heatmap PNGs of an image model's routing: mean activated experts per patch position, one map per MoE layer,
    /// overall and per class, drawn with ScottPlot from <see cref="DynMoEEncoderRoutingReport.ActivatedExpertsByPosition"/>.
    /// </summary>
    public static class RoutingHeatmaps
    {
        /// <summary>One heatmap written: its file, MoE layer index, class (null = all images) and the values drawn, <c>[patch row, patch column]</c>.</summary>
        /// <param name="Path">PNG file written.</param>
        /// <param name="MoELayer">Index among the model's MoE layers (0 = first).</param>
        /// <param name="Label">Class of the images, or null for all images.</param>
        /// <param name="Values">Mean activated experts per patch, NaN where no patch was seen.</param>
        public sealed record Heatmap(string Path, int MoELayer, string? Label, double[,] Values);

        /// <summary>
        /// Writes <c>routing-layer{L}.png</c> and <c>routing-layer{L}-class-{label}.png</c> for every MoE layer to
        /// <paramref name="directory"/>; every map of one layer shares one colour scale, so classes compare at a glance.
        /// </summary>
        public static IReadOnlyList<Heatmap> SaveAll(DynMoEEncoderRoutingReport report, string directory, int cellPixels = 48)
        {
            ArgumentNullException.ThrowIfNull(report);
            if (report.ActivatedExpertsByPosition.Count == 0)
                throw new ArgumentException("The routing report has no MoE layer (a dense model activates no experts); there is nothing to draw.", nameof(report));
            Directory.CreateDirectory(directory);
            var written = new List<Heatmap>();
            for (int layer = 0; layer < report.ActivatedExpertsByPosition.Count; layer++)
            {
                var maps = new List<(string? Label, double[,] Values)> { (null, ToGrid(report.ActivatedExpertsByPosition[layer], report.PositionRows, report.PositionColumns)) };
                foreach (var kv in report.ActivatedExpertsByPositionAndLabel.OrderBy(k => k.Key, StringComparer.Ordinal))
                    maps.Add((kv.Key, ToGrid(kv.Value[layer], report.PositionRows, report.PositionColumns)));
                var finite = maps.SelectMany(m => m.Values.Cast<double>()).Where(double.IsFinite).ToArray();
                var range = finite.Length == 0 ? new ScottPlot.Range(0, 1) : new ScottPlot.Range(finite.Min(), Math.Max(finite.Max(), finite.Min() + 1e-6));
                foreach (var (label, values) in maps)
                {
                    string name = label is null ? $"routing-layer{layer}.png" : $"routing-layer{layer}-class-{SafeName(label)}.png";
                    string path = System.IO.Path.Combine(directory, name);
                    string title = $"MoE layer {layer}: mean activated experts per patch" + (label is null ? "" : $", class {label}");
                    Save(values, range, title, path, cellPixels);
                    written.Add(new Heatmap(path, layer, label, values));
                }
            }

            return written;
        }

        /// <summary>Row-major positions as a <c>[rows, columns]</c> grid (the patch grid of the image).</summary>
        public static double[,] ToGrid(IReadOnlyList<double> positions, int rows, int columns)
        {
            ArgumentNullException.ThrowIfNull(positions);
            if (positions.Count != rows * columns)
                throw new ArgumentException($"{positions.Count} positions do not fill a {rows} × {columns} patch grid.", nameof(positions));
            var grid = new double[rows, columns];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < columns; c++)
                    grid[r, c] = positions[r * columns + c];
            return grid;
        }

        internal static void Save(double[,] values, ScottPlot.Range range, string title, string path, int cellPixels = 48)
        {
            var plot = new Plot();
            var map = plot.Add.Heatmap(values);
            map.Colormap = new ScottPlot.Colormaps.Viridis();
            map.ManualRange = range;
            plot.Add.ColorBar(map);
            // Drawn like the image itself (patch row 0 at the top); axis numbers would only suggest the opposite.
            // Frameless also hides the title, which Title() shows again.
            plot.Axes.Frameless();
            plot.HideGrid();
            plot.Title(title, size: 13);
            int rows = values.GetLength(0), columns = values.GetLength(1);
            plot.SavePng(path, Math.Max(360, columns * cellPixels + 140), Math.Max(300, rows * cellPixels + 80));
        }

        private static string SafeName(string label)
        {
            var invalid = System.IO.Path.GetInvalidFileNameChars();
            var chars = label.Select(ch => invalid.Contains(ch) || char.IsWhiteSpace(ch) ? '_' : ch).ToArray();
            return chars.Length == 0 ? "_" : new string(chars);
        }
    }
}
