using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Onnx;

/// <summary>
/// DynMoE models exported by ML.NET's own converter (<c>mlContext.Model.ConvertToOnnx</c>) and scored by ONNX Runtime
/// give ML.NET's scores and labels: every task × gating on shipped real data plus constructed rows that top-any routes
/// to no expert, through ML.NET's ApplyOnnxModel and through an ORT session with all graph optimisations, at batch
/// sizes 1 and 1,000. Whole pipelines (normalisers, missing-value replacement, one-hot encoding, concatenation, label
/// keys) are in <see cref="OnnxPipelineTests"/>.
/// Scores are compared with |onnx − mlnet| ≤ 1e-4 · max(1, |mlnet|): absolute below 1, relative above (regression
/// scores are in label units, e.g. tens of MPa for concrete, where float32 itself resolves only ~4e-6).
/// </summary>
[TestClass]
public sealed class OnnxExportTests
{
    private const int BatchRows = 1000;
    internal const double Tolerance = 1e-4;

    private string _dir = "";

    [TestInitialize]
    public void CreateDirectory()
    {
        _dir = Path.Combine(Path.GetTempPath(), "dynmoe-onnx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TestCleanup]
    public void DeleteDirectory()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    internal sealed class Trained
    {
        public required MLContext ML { get; init; }
        public required ITransformer Model { get; init; }
        public required IDataView Data { get; init; }
        public required FeatureStandardizer Standardizer { get; init; }
        public required Microsoft.ML.DynMoE.Inference.CompiledMoEMlp Network { get; init; }
        public required string Task { get; init; }
    }

    /// <summary>A small, quickly trained model per task: wine (3 classes), breast cancer (binary), concrete (regression).</summary>
    internal static Trained Train(string task, GatingKind gating)
    {
        var ml = new MLContext(seed: 5);
        void Configure(DynMoETrainerOptionsBase o)
        {
            o.Gating = gating;
            o.TopK = 2;
            o.InitialExperts = 4;
            o.NumberOfLayers = 2;
            o.ModelDimension = 16;
            o.ExpertHiddenDimension = 16;
            o.NumberOfEpochs = 4;
            o.Device = DynMoEDevice.Cpu;
            o.Seed = 5;
        }

        switch (task)
        {
            case "multiclass":
            {
                var data = TestData.LoadNumeric(ml, "wine", DataKind.String);
                var options = new DynMoEMulticlassTrainer.Options();
                Configure(options);
                var model = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data);
                var keyed = model.Transform(data);
                var predictor = ml.MulticlassClassification.Trainers.DynMoE(options).Fit(keyed);
                return new Trained { ML = ml, Model = predictor, Data = data, Standardizer = predictor.Model.Standardizer, Network = predictor.Model.Network, Task = task };
            }
            case "binary":
            {
                var data = TestData.LoadNumeric(ml, "breast_cancer", DataKind.Boolean);
                var options = new DynMoEBinaryTrainer.Options();
                Configure(options);
                var predictor = ml.BinaryClassification.Trainers.DynMoE(options).Fit(data);
                return new Trained { ML = ml, Model = predictor, Data = data, Standardizer = predictor.Model.Standardizer, Network = predictor.Model.Network, Task = task };
            }
            default:
            {
                var data = TestData.LoadNumeric(ml, "concrete", DataKind.Single);
                var options = new DynMoERegressionTrainer.Options();
                Configure(options);
                var predictor = ml.Regression.Trainers.DynMoE(options).Fit(data);
                return new Trained { ML = ml, Model = predictor, Data = data, Standardizer = predictor.Model.Standardizer, Network = predictor.Model.Network, Task = task };
            }
        }
    }

    /// <summary>
    /// 1,000 rows of raw features: rows that top-any routes to no expert in some layer (found among random rows around
    /// the training distribution) first, then the real rows, repeated to fill the batch.
    /// </summary>
    internal static (float[][] Rows, int FallbackRows) BuildRows(Trained t, bool needFallback)
    {
        var real = ReadFeatures(t.ML, t.Data);
        int f = t.Standardizer.FeatureCount;
        var rows = new List<float[]>();
        var random = new Random(11);
        var standardized = new float[f];
        foreach (double spread in new[] { 0.5, 1, 2, 4, 8 })
        {
            for (int attempt = 0; attempt < 400 && rows.Count < 40; attempt++)
            {
                var raw = new float[f];
                for (int i = 0; i < f; i++)
                {
                    double z = spread * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                    raw[i] = (float)(t.Standardizer.Mean[i] + z / t.Standardizer.InverseStd[i]);
                }
                t.Standardizer.Apply(raw, standardized);
                if (t.Network.UsesNoExpertFallback(standardized))
                    rows.Add(raw);
            }
        }
        int fallback = rows.Count;
        if (needFallback)
            Assert.IsGreaterThan(0, fallback, "No row routed to no expert was found; the fallback path would go untested.");
        for (int i = 0; rows.Count < BatchRows; i++)
            rows.Add(real[i % real.Length]);
        return (rows.ToArray(), fallback);
    }

    private static float[][] ReadFeatures(MLContext ml, IDataView data)
        => ml.Data.CreateEnumerable<FeatureRow>(data, reuseRowObject: false).Select(r => r.Features).ToArray();

    private sealed class FeatureRow
    {
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    internal static IDataView ToDataView(MLContext ml, float[][] rows)
    {
        var schema = SchemaDefinition.Create(typeof(FeatureRow));
        schema[nameof(FeatureRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Length);
        return ml.Data.LoadFromEnumerable(rows.Select(r => new FeatureRow { Features = r }), schema);
    }

    public static IEnumerable<object[]> TaskAndGating =>
        from task in new[] { "multiclass", "binary", "regression" }
        from gating in new[] { GatingKind.TopAny, GatingKind.TopK, GatingKind.Dense }
        select new object[] { task, gating };

    [TestMethod]
    [DynamicData(nameof(TaskAndGating))]
    public void OnnxRuntimeMatchesMLNetScoresAndLabels(string task, GatingKind gating)
    {
        var t = Train(task, gating);
        var (rows, fallbackRows) = BuildRows(t, needFallback: gating == GatingKind.TopAny);
        Console.WriteLine($"{task} {gating}: {fallbackRows} constructed rows route to no expert in some layer");
        var view = ToDataView(t.ML, rows);
        string path = Path.Combine(_dir, "model.onnx");
        using (var stream = File.Create(path))
            t.ML.Model.ConvertToOnnx(t.Model, view, stream);

        var expected = Outputs.Read(t.Model.Transform(view), task);
        Assert.AreEqual(BatchRows, expected.Score.Length);

        // ML.NET's ApplyOnnxModel (ONNX Runtime underneath, one row at a time); it strips the converter's ".output".
        var onnx = t.ML.Transforms.ApplyOnnxModel(path).Fit(view);
        var viaMLNet = Outputs.Read(onnx.Transform(view), task);
        Outputs.AssertEqual(expected, viaMLNet, "ApplyOnnxModel");

        // ONNX Runtime directly, all graph optimisations on, one batch of 1,000 rows and a batch of one row.
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(path, options);
        Outputs.AssertEqual(expected, Outputs.Run(session, rows, task), "ORT batch of 1,000");
        Outputs.AssertEqual(expected.Take(1), Outputs.Run(session, rows.Take(1).ToArray(), task), "ORT batch of 1");
        if (fallbackRows > 0)
            Outputs.AssertEqual(expected.Take(fallbackRows), Outputs.Run(session, rows.Take(fallbackRows).ToArray(), task), "rows routed to no expert");
    }

    [TestMethod]
    public void ConvertedModelHasTheDataColumnsAsInputsAndTheScorerColumnsAsOutputs()
    {
        var t = Train("binary", GatingKind.TopAny);
        using var stream = new MemoryStream();
        t.ML.Model.ConvertToOnnx(t.Model, t.Data, stream);

        var model = DynMoE.Onnx.Proto.ModelProto.Parser.ParseFrom(stream.ToArray());
        // ML.NET's converter: every column of the data is an input, every visible column of the result an output.
        CollectionAssert.AreEqual(new[] { "Label", "Features" }, model.Graph.Input.Select(i => i.Name).ToArray());
        var features = model.Graph.Input[1].Type.TensorType.Shape.Dim;
        Assert.AreEqual(-1L, features[0].DimValue, "dynamic batch");
        Assert.AreEqual(30L, features[1].DimValue);
        CollectionAssert.AreEqual(new[] { "Label.output", "Features.output", "PredictedLabel.output", "Score.output", "Probability.output" },
            model.Graph.Output.Select(o => o.Name).ToArray());
        Assert.AreEqual(12L, model.OpsetImport.Single(o => o.Domain == "").Version, "the converter's default opset");
    }

    [TestMethod]
    public void NodesRunAtOpset11AndAnOlderOpsetIsRefusedWithTheMinimum()
    {
        var t = Train("multiclass", GatingKind.TopK);
        var (rows, _) = BuildRows(t, needFallback: false);
        var view = ToDataView(t.ML, rows);
        using (var stream = new MemoryStream())
        {
            t.ML.Model.ConvertToOnnx(t.Model, view, 11, stream);
            Assert.AreEqual(11L, DynMoE.Onnx.Proto.ModelProto.Parser.ParseFrom(stream.ToArray()).OpsetImport.Single(o => o.Domain == "").Version);
            using var session = new InferenceSession(stream.ToArray());
            Outputs.AssertEqual(Outputs.Read(t.Model.Transform(view), "multiclass"), Outputs.Run(session, rows, "multiclass"), "opset 11");
        }

        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => t.ML.Model.ConvertToOnnx(t.Model, view, 10, new MemoryStream()));
        StringAssert.Contains(error.Message, "Requested OpSet version 10 is lower than DynMoE's minimum OpSet version requirement: 11");
    }

    /// <summary>The outputs of one scoring, in ML.NET's meaning: score per row, probability and predicted label where the task has them.</summary>
    internal sealed class Outputs
    {
        public float[][] Score { get; init; } = Array.Empty<float[]>();
        public float[]? Probability { get; init; }
        public long[]? Label { get; init; }

        public Outputs Take(int n) => new()
        {
            Score = Score.Take(n).ToArray(),
            Probability = Probability?.Take(n).ToArray(),
            Label = Label?.Take(n).ToArray(),
        };

        public static Outputs Read(IDataView scored, string task)
        {
            var score = ReadFloats(scored, "Score");
            return task switch
            {
                "binary" => new Outputs
                {
                    Score = score,
                    Probability = ReadFloats(scored, "Probability").Select(p => p.Single()).ToArray(),
                    Label = ReadLabels(scored),
                },
                "multiclass" => new Outputs { Score = score, Label = ReadLabels(scored) },
                _ => new Outputs { Score = score },
            };
        }

        public static Outputs Run(InferenceSession session, float[][] rows, string task)
        {
            int n = rows.Length, f = rows[0].Length;
            var input = new DenseTensor<float>(rows.SelectMany(r => r).ToArray(), new[] { n, f });
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("Features", input) });
            var byName = results.ToDictionary(r => r.Name.EndsWith(".output", StringComparison.Ordinal) ? r.Name[..^".output".Length] : r.Name);
            var scoreTensor = byName["Score"].AsTensor<float>();
            int width = scoreTensor.Dimensions[1];
            var score = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, width).Select(j => scoreTensor[i, j]).ToArray()).ToArray();
            return task switch
            {
                "binary" => new Outputs
                {
                    Score = score,
                    Probability = byName["Probability"].AsTensor<float>().ToArray(),
                    Label = byName["PredictedLabel"].AsTensor<bool>().Select(b => b ? 1L : 0L).ToArray(),
                },
                "multiclass" => new Outputs { Score = score, Label = byName["PredictedLabel"].AsTensor<uint>().Select(k => (long)k).ToArray() },
                _ => new Outputs { Score = score },
            };
        }

        public static void AssertEqual(Outputs expected, Outputs actual, string what)
        {
            Assert.HasCount(expected.Score.Length, actual.Score);
            double largest = 0;
            for (int i = 0; i < expected.Score.Length; i++)
            {
                Assert.HasCount(expected.Score[i].Length, actual.Score[i], $"{what}: score width, row {i}");
                for (int j = 0; j < expected.Score[i].Length; j++)
                {
                    AssertClose(expected.Score[i][j], actual.Score[i][j], $"{what}: Score[{i}][{j}]");
                    largest = Math.Max(largest, Math.Abs(expected.Score[i][j] - (double)actual.Score[i][j]) / Math.Max(1.0, Math.Abs(expected.Score[i][j])));
                }
                if (expected.Probability is not null)
                    AssertClose(expected.Probability[i], actual.Probability![i], $"{what}: Probability[{i}]");
                if (expected.Label is not null)
                    Assert.AreEqual(expected.Label[i], actual.Label![i], $"{what}: PredictedLabel[{i}]");
            }
            Console.WriteLine($"{what}: {expected.Score.Length} rows, largest score difference {largest:E2} (relative above 1)");
        }

        private static void AssertClose(float expected, float actual, string what)
        {
            double allowed = Tolerance * Math.Max(1.0, Math.Abs(expected));
            Assert.IsLessThanOrEqualTo(allowed, Math.Abs(expected - (double)actual), $"{what}: ML.NET {expected}, ONNX {actual}");
        }

        private static float[][] ReadFloats(IDataView data, string name)
        {
            var column = data.Schema[name];
            var values = new List<float[]>();
            using var cursor = data.GetRowCursor(new[] { column });
            if (column.Type is VectorDataViewType)
            {
                var getter = cursor.GetGetter<VBuffer<float>>(column);
                var buffer = default(VBuffer<float>);
                while (cursor.MoveNext())
                {
                    getter(ref buffer);
                    values.Add(buffer.DenseValues().ToArray());
                }
            }
            else
            {
                var getter = cursor.GetGetter<float>(column);
                float value = 0;
                while (cursor.MoveNext())
                {
                    getter(ref value);
                    values.Add(new[] { value });
                }
            }
            return values.ToArray();
        }

        /// <summary>Boolean labels as 0/1, key or UInt32 labels as their number (ML.NET's 1-based key index).</summary>
        private static long[] ReadLabels(IDataView data)
        {
            var column = data.Schema["PredictedLabel"];
            var values = new List<long>();
            using var cursor = data.GetRowCursor(new[] { column });
            var item = column.Type.GetItemType();
            bool vector = column.Type is VectorDataViewType;
            if (item is BooleanDataViewType)
            {
                var scalar = vector ? null : cursor.GetGetter<bool>(column);
                var many = vector ? cursor.GetGetter<VBuffer<bool>>(column) : null;
                bool b = false;
                var buffer = default(VBuffer<bool>);
                while (cursor.MoveNext())
                {
                    if (scalar is not null) { scalar(ref b); } else { many!(ref buffer); b = buffer.GetItemOrDefault(0); }
                    values.Add(b ? 1 : 0);
                }
            }
            else
            {
                var scalar = vector ? null : cursor.GetGetter<uint>(column);
                var many = vector ? cursor.GetGetter<VBuffer<uint>>(column) : null;
                uint k = 0;
                var buffer = default(VBuffer<uint>);
                while (cursor.MoveNext())
                {
                    if (scalar is not null) { scalar(ref k); } else { many!(ref buffer); k = buffer.GetItemOrDefault(0); }
                    values.Add(k);
                }
            }
            return values.ToArray();
        }
    }
}
