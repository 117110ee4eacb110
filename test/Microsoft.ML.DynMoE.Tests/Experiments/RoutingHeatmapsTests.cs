using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Experiments;
using Microsoft.ML.DynMoE.Experiments.Reports;
using Microsoft.ML.DynMoE.Images;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SkiaSharp;

namespace Microsoft.ML.DynMoE.Tests.Experiments;

[TestClass]
public sealed class RoutingHeatmapsTests
{
    [TestMethod]
    public void HeatmapsDrawTheReportsPerPatchValuesPerLayerAndClass()
    {
        var ml = new MLContext(seed: 1);
        var raw = ml.Data.TakeRows(TestData.LoadNumeric(ml, "digits", DataKind.String), 300);
        var data = ml.Data.Cache(ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(raw));
        var model = ml.MulticlassClassification.Trainers.DynMoEImageClassification(new DynMoEImageClassificationTrainer.Options
        {
            ImageHeight = 8, ImageWidth = 8, NumberOfLayers = 2, MoELayers = MoELayerPlacement.All, ModelDimension = 16, NumberOfHeads = 2,
            ExpertHiddenDimension = 16, NumberOfEpochs = 2, Seed = 1,
        }).Fit(data);
        var report = model.Model.ComputeRouting(data, "Label");
        Assert.AreEqual(4, report.PositionRows);
        Assert.AreEqual(4, report.PositionColumns);

        string directory = Path.Combine(Path.GetTempPath(), "dynmoe-heatmaps-" + Guid.NewGuid().ToString("N"));
        try
        {
            var maps = RoutingHeatmaps.SaveAll(report, directory);
            int classes = report.ActivatedExpertsByPositionAndLabel.Count;
            Assert.AreEqual(10, classes);
            Assert.AreEqual(2 * (1 + classes), maps.Count);
            foreach (var map in maps)
            {
                var expected = map.Label is null ? report.ActivatedExpertsByPosition[map.MoELayer] : report.ActivatedExpertsByPositionAndLabel[map.Label][map.MoELayer];
                Assert.AreEqual(4, map.Values.GetLength(0));
                Assert.AreEqual(4, map.Values.GetLength(1));
                for (int r = 0; r < 4; r++)
                    for (int c = 0; c < 4; c++)
                        Assert.AreEqual(expected[r * 4 + c], map.Values[r, c], $"layer {map.MoELayer}, class {map.Label ?? "all"}, patch ({r}, {c})");
                using var png = SKBitmap.Decode(map.Path);
                Assert.IsNotNull(png, map.Path + " is not a PNG");
                StringAssert.EndsWith(map.Path, map.Label is null ? $"routing-layer{map.MoELayer}.png" : $"routing-layer{map.MoELayer}-class-{map.Label}.png");
            }

            // Every patch was routed, so no cell is empty, and a top-any token activates between 1 and MaximumExperts experts.
            Assert.IsTrue(maps.All(m => m.Values.Cast<double>().All(v => v >= 1 && v <= 8)), "activated experts per patch out of [1, 8]");
            // The overall map is the patch-count-weighted mean of the class maps: every class has every patch once per image.
            var counts = report.ByLabel.ToDictionary(k => k.Key, k => (double)k.Value.Rows);
            for (int layer = 0; layer < 2; layer++)
                for (int p = 0; p < 16; p++)
                    Assert.AreEqual(report.ActivatedExpertsByPosition[layer][p],
                        report.ActivatedExpertsByPositionAndLabel.Sum(kv => kv.Value[layer][p] * counts[kv.Key]) / counts.Values.Sum(), 1e-9);
        }
        finally
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void PatchRowZeroIsDrawnAtTheTopLikeTheImage()
    {
        var grid = new double[4, 4];
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++)
                grid[r, c] = r == 0 ? 8 : 1;
        string path = Path.Combine(Path.GetTempPath(), "dynmoe-heatmap-" + Guid.NewGuid().ToString("N") + ".png");
        try
        {
            RoutingHeatmaps.Save(grid, new ScottPlot.Range(1, 8), "orientation", path);
            using var png = SKBitmap.Decode(path);
            // Viridis: the high row is yellow, the rest dark purple. Look left of the colour bar only.
            var yellowRows = Enumerable.Range(0, png.Height).Where(y => Enumerable.Range(0, png.Width * 6 / 10).Any(x =>
            {
                var color = png.GetPixel(x, y);
                return color.Red > 200 && color.Green > 200 && color.Blue < 120;
            })).ToArray();
            var purpleRows = Enumerable.Range(0, png.Height).Where(y => Enumerable.Range(0, png.Width * 6 / 10).Any(x =>
            {
                var color = png.GetPixel(x, y);
                return color.Red > 50 && color.Red < 110 && color.Green < 40 && color.Blue > 70;
            })).ToArray();
            Assert.IsNotEmpty(yellowRows, "no yellow cell drawn");
            Assert.IsNotEmpty(purpleRows, "no purple cell drawn");
            Assert.IsLessThan(purpleRows.Min(), yellowRows.Max(), $"yellow rows {yellowRows.Min()}–{yellowRows.Max()}, purple rows {purpleRows.Min()}–{purpleRows.Max()}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void GridNeedsTheWholePatchGrid()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => RoutingHeatmaps.ToGrid(new double[5], 2, 2));
        StringAssert.StartsWith(error.Message, "5 positions do not fill a 2 × 2 patch grid.");
    }
}
