using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Onnx;

/// <summary>
/// Whole ML.NET pipelines with a DynMoE step, exported by <c>mlContext.Model.ConvertToOnnx</c> from the raw data
/// columns: the ONNX graph's inputs are the loader's columns, its outputs ML.NET's (<c>Score.output</c>, …), and ONNX
/// Runtime gives ML.NET's scores (within <see cref="OnnxExportTests.Tolerance"/>) and identical labels, through
/// ApplyOnnxModel (row by row) and an ORT session at batch sizes 1 and 1,000.
/// </summary>
[TestClass]
public sealed class OnnxPipelineTests
{
    private const int BatchRows = 1000;

    private static DynMoETrainerOptionsBase Small(DynMoETrainerOptionsBase o, GatingKind gating)
    {
        o.Gating = gating;
        o.TopK = 2;
        o.InitialExperts = 4;
        o.NumberOfLayers = 2;
        o.ModelDimension = 16;
        o.ExpertHiddenDimension = 16;
        o.NumberOfEpochs = 3;
        o.Device = DynMoEDevice.Cpu;
        o.Seed = 5;
        return o;
    }

    [TestMethod]
    public void IrisKeyNormalizeDynMoEKeyToValueExportsAndScoresLikeMLNet()
    {
        // The pipeline of the reported failure: label keys, a normaliser, DynMoE, the class name back.
        var ml = new MLContext(seed: 5);
        var data = TestData.LoadNumeric(ml, "iris", DataKind.String);
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.NormalizeMeanVariance("Features"))
            .Append(ml.MulticlassClassification.Trainers.DynMoE((DynMoEMulticlassTrainer.Options)Small(new DynMoEMulticlassTrainer.Options(), GatingKind.TopAny)))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
            .Fit(data);

        var graph = AssertPipelineMatches(ml, model, data, "multiclass-names");
        CollectionAssert.AreEqual(new[] { "Label", "Features" }, graph.Graph.Input.Select(i => i.Name).ToArray());
    }

    [TestMethod]
    public void PenguinsMissingValuesOneHotConcatenateMinMaxTopKExportsAndScoresLikeMLNet()
    {
        var ml = new MLContext(seed: 5);
        var loader = ml.Data.CreateTextLoader(new TextLoader.Options
        {
            Separators = new[] { ',' },
            HasHeader = true,
            MissingRealsAsNaNs = true,
            Columns = new[]
            {
                new TextLoader.Column("Label", DataKind.String, 0),
                new TextLoader.Column("island", DataKind.String, 1),
                new TextLoader.Column("bill_length_mm", DataKind.Single, 2),
                new TextLoader.Column("bill_depth_mm", DataKind.Single, 3),
                new TextLoader.Column("flipper_length_mm", DataKind.Single, 4),
                new TextLoader.Column("body_mass_g", DataKind.Single, 5),
                new TextLoader.Column("sex", DataKind.String, 6),
                new TextLoader.Column("year", DataKind.Single, 7),
            },
        });
        var data = loader.Load(TestData.PathOf("penguins"));
        var numeric = new[] { "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g" };
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.ReplaceMissingValues(numeric.Select(c => new InputOutputColumnPair(c)).ToArray(),
                Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean))
            .Append(ml.Transforms.Categorical.OneHotEncoding(new[] { new InputOutputColumnPair("island_onehot", "island"), new InputOutputColumnPair("sex_onehot", "sex") }))
            .Append(ml.Transforms.Concatenate("Features", numeric.Append("year").Append("island_onehot").Append("sex_onehot").ToArray()))
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .Append(ml.MulticlassClassification.Trainers.DynMoE((DynMoEMulticlassTrainer.Options)Small(new DynMoEMulticlassTrainer.Options(), GatingKind.TopK)))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
            .Fit(data);

        Assert.IsTrue(data.GetColumn<float>("bill_length_mm").Any(float.IsNaN), "the data has missing values to replace");
        var graph = AssertPipelineMatches(ml, model, data, "multiclass-names");
        CollectionAssert.AreEqual(new[] { "Label", "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex", "year" },
            graph.Graph.Input.Select(i => i.Name).ToArray());
    }

    [TestMethod]
    public void CreditOneHotConcatenateMeanVarianceBinaryExportsAndScoresLikeMLNet()
    {
        var ml = new MLContext(seed: 5);
        string path = TestData.PathOf("credit_g");
        var header = File.ReadLines(path).First().Split(',');
        var firstRow = File.ReadLines(path).Skip(1).First().Split(',');
        var columns = new List<TextLoader.Column> { new("Label", DataKind.Boolean, 0) };
        var categorical = new List<string>();
        var numeric = new List<string>();
        for (int i = 1; i < header.Length; i++)
        {
            bool isNumber = float.TryParse(firstRow[i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _);
            columns.Add(new TextLoader.Column(header[i], isNumber ? DataKind.Single : DataKind.String, i));
            (isNumber ? numeric : categorical).Add(header[i]);
        }
        var data = ml.Data.CreateTextLoader(columns.ToArray(), separatorChar: ',', hasHeader: true).Load(path);
        var model = ml.Transforms.Categorical.OneHotEncoding(categorical.Select(c => new InputOutputColumnPair(c + "_onehot", c)).ToArray())
            .Append(ml.Transforms.Concatenate("Features", numeric.Concat(categorical.Select(c => c + "_onehot")).ToArray()))
            .Append(ml.Transforms.NormalizeMeanVariance("Features"))
            .Append(ml.BinaryClassification.Trainers.DynMoE((DynMoEBinaryTrainer.Options)Small(new DynMoEBinaryTrainer.Options(), GatingKind.TopAny)))
            .Fit(data);

        AssertPipelineMatches(ml, model, data, "binary");
    }

    [TestMethod]
    public void ConcreteConcatenateMeanVarianceDenseRegressionExportsAndScoresLikeMLNet()
    {
        var ml = new MLContext(seed: 5);
        string path = TestData.PathOf("concrete");
        var header = File.ReadLines(path).First().Split(',');
        var columns = header.Select((name, i) => new TextLoader.Column(name, DataKind.Single, i)).ToArray();
        var data = ml.Data.CreateTextLoader(columns, separatorChar: ',', hasHeader: true).Load(path);
        var model = ml.Transforms.Concatenate("Features", header.Skip(1).ToArray())
            .Append(ml.Transforms.NormalizeMeanVariance("Features"))
            .Append(ml.Regression.Trainers.DynMoE((DynMoERegressionTrainer.Options)Small(new DynMoERegressionTrainer.Options(), GatingKind.Dense)))
            .Fit(data);

        AssertPipelineMatches(ml, model, data, "regression");
    }

    /// <summary>Exports the whole pipeline and checks ApplyOnnxModel and ORT (batches of 1 and 1,000 rows) against ML.NET.</summary>
    private static DynMoE.Onnx.Proto.ModelProto AssertPipelineMatches(MLContext ml, ITransformer model, IDataView data, string task)
    {
        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, data, stream);
        // 1,000 rows: the data's rows repeated (or its first 1,000).
        long count = 0;
        using (var cursor = data.GetRowCursor(Array.Empty<DataViewSchema.Column>()))
            while (cursor.MoveNext())
                count++;
        int copies = (int)Math.Ceiling(BatchRows / (double)count);
        var batch = ml.Data.Cache(ml.Data.TakeRows(AppendRowsDataView.Create(ml, data.Schema, Enumerable.Repeat(data, copies).ToArray()), BatchRows));
        var bytes = stream.ToArray();
        var graph = DynMoE.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes);
        var outputs = graph.Graph.Output.Select(o => o.Name).ToArray();
        CollectionAssert.IsSubsetOf(task switch
        {
            "binary" => new[] { "Score.output", "Probability.output", "PredictedLabel.output" },
            "regression" => new[] { "Score.output" },
            _ => new[] { "Score.output", "PredictedLabel.output" },
        }, outputs);

        var expected = Read(model.Transform(batch), task);
        Assert.HasCount(BatchRows, expected.Score);

        string file = Path.Combine(Path.GetTempPath(), "dynmoe-pipeline-" + Guid.NewGuid().ToString("N") + ".onnx");
        File.WriteAllBytes(file, bytes);
        try
        {
            var applied = ml.Transforms.ApplyOnnxModel(file).Fit(batch).Transform(batch);
            AssertEqual(expected, Read(applied, task), "ApplyOnnxModel");
        }
        finally
        {
            File.Delete(file);
        }

        using var session = new InferenceSession(bytes, new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL });
        AssertEqual(expected, Run(session, batch, task, BatchRows), "ORT batch of 1,000");
        AssertEqual(expected.Take(1), Run(session, batch, task, 1), "ORT batch of 1");
        return graph;
    }

    private sealed class Scored
    {
        public float[][] Score = Array.Empty<float[]>();
        public float[]? Probability;
        public string[]? Label;

        public Scored Take(int n) => new() { Score = Score.Take(n).ToArray(), Probability = Probability?.Take(n).ToArray(), Label = Label?.Take(n).ToArray() };
    }

    private static Scored Read(IDataView scored, string task)
    {
        var score = ReadFloats(scored, "Score");
        var result = new Scored { Score = score };
        if (task == "binary")
        {
            result.Probability = ReadFloats(scored, "Probability").Select(p => p.Single()).ToArray();
            result.Label = ReadStrings(scored, "PredictedLabel");
        }
        else if (task != "regression")
        {
            result.Label = ReadStrings(scored, "PredictedLabel");
        }
        return result;
    }

    /// <summary>Feeds the first <paramref name="rows"/> rows of every input column to ORT, shaped as ML.NET's converter declares them ([N, width]).</summary>
    private static Scored Run(InferenceSession session, IDataView data, string task, int rows)
    {
        var feeds = new List<NamedOnnxValue>();
        foreach (var (name, meta) in session.InputMetadata)
        {
            var column = data.Schema[name];
            int width = column.Type is VectorDataViewType v ? v.Size : 1;
            var item = column.Type.GetItemType();
            if (item == NumberDataViewType.Single)
                feeds.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(ReadFloats(data, name).Take(rows).SelectMany(r => r).ToArray(), new[] { rows, width })));
            else if (item is TextDataViewType)
                feeds.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<string>(ReadStrings(data, name).Take(rows).ToArray(), new[] { rows, 1 })));
            else if (item is BooleanDataViewType)
                feeds.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<bool>(data.GetColumn<bool>(name).Take(rows).ToArray(), new[] { rows, 1 })));
            else
                Assert.Fail($"Input '{name}' of type {column.Type} is not fed by this test.");
        }
        using var results = session.Run(feeds);
        var byName = results.ToDictionary(r => r.Name);
        var scoreTensor = byName["Score.output"].AsTensor<float>();
        int classes = scoreTensor.Dimensions[1];
        var result = new Scored { Score = Enumerable.Range(0, rows).Select(i => Enumerable.Range(0, classes).Select(j => scoreTensor[i, j]).ToArray()).ToArray() };
        if (task == "binary")
        {
            result.Probability = byName["Probability.output"].AsTensor<float>().ToArray();
            result.Label = byName["PredictedLabel.output"].AsTensor<bool>().Select(b => b.ToString()).ToArray();
        }
        else if (task != "regression")
        {
            result.Label = byName["PredictedLabel.output"].AsTensor<string>().ToArray();
        }
        return result;
    }

    private static void AssertEqual(Scored expected, Scored actual, string what)
    {
        Assert.HasCount(expected.Score.Length, actual.Score, what);
        double largest = 0;
        for (int i = 0; i < expected.Score.Length; i++)
        {
            Assert.HasCount(expected.Score[i].Length, actual.Score[i], $"{what}: score width, row {i}");
            for (int j = 0; j < expected.Score[i].Length; j++)
                largest = Math.Max(largest, Close(expected.Score[i][j], actual.Score[i][j], $"{what}: Score[{i}][{j}]"));
            if (expected.Probability is not null)
                largest = Math.Max(largest, Close(expected.Probability[i], actual.Probability![i], $"{what}: Probability[{i}]"));
            if (expected.Label is not null)
                Assert.AreEqual(expected.Label[i], actual.Label![i], $"{what}: PredictedLabel[{i}]");
        }
        Console.WriteLine($"{what}: {expected.Score.Length} rows, largest difference {largest:E2} (relative above 1)");
    }

    private static double Close(float expected, float actual, string what)
    {
        double scaled = Math.Abs(expected - (double)actual) / Math.Max(1.0, Math.Abs(expected));
        Assert.IsLessThanOrEqualTo(OnnxExportTests.Tolerance, scaled, $"{what}: ML.NET {expected}, ONNX {actual}");
        return scaled;
    }

    private static float[][] ReadFloats(IDataView data, string name)
    {
        var column = data.Schema[name];
        if (column.Type is VectorDataViewType)
            return data.GetColumn<VBuffer<float>>(column).Select(v => v.DenseValues().ToArray()).ToArray();
        return data.GetColumn<float>(column).Select(v => new[] { v }).ToArray();
    }

    /// <summary>Text, Boolean or a one-element vector of either, as strings (ApplyOnnxModel gives [1]-vectors).</summary>
    private static string[] ReadStrings(IDataView data, string name)
    {
        var column = data.Schema[name];
        var item = column.Type.GetItemType();
        bool vector = column.Type is VectorDataViewType;
        if (item is BooleanDataViewType)
            return vector ? data.GetColumn<VBuffer<bool>>(column).Select(v => v.GetItemOrDefault(0).ToString()).ToArray()
                : data.GetColumn<bool>(column).Select(b => b.ToString()).ToArray();
        return vector ? data.GetColumn<VBuffer<ReadOnlyMemory<char>>>(column).Select(v => v.GetItemOrDefault(0).ToString()).ToArray()
            : data.GetColumn<ReadOnlyMemory<char>>(column).Select(v => v.ToString()).ToArray();
    }
}
