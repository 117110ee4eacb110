using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Onnx;

/// <summary>
/// The DynMoE text classifiers through ML.NET's ConvertToOnnx from token codes: <c>TokenizeForDynMoE</c> makes the codes
/// in .NET, the classifier's <c>WithTokenInput()</c> scores them exactly as the text pipeline does, and its whole
/// pipeline (label keys, classifier, class names back) converts. ONNX Runtime gives ML.NET's scores within
/// <see cref="OnnxExportTests.Tolerance"/> and identical labels, through ApplyOnnxModel and an ORT session at batch sizes
/// 1 and 1,000. The rows are message prefixes of 0 to 20 words, so the batch mixes empty, short (padded) and truncated
/// sequences. The pretrained (MiniLM) classifiers are in <see cref="OnnxPretrainedTextTests"/>.
/// </summary>
[TestClass]
public sealed class OnnxTextEncoderTests
{
    internal const int BatchRows = 1000;
    internal const int MaximumLength = 16;

    internal sealed class Message
    {
        public string Label { get; set; } = "";
        public bool Spam { get; set; }
        public string Text { get; set; } = "";
        public string Second { get; set; } = "";
    }

    [TestMethod]
    [DataRow("binary", SequencePooling.Mean, GatingKind.TopAny, false)]
    [DataRow("binary", SequencePooling.ClassToken, GatingKind.TopK, false)]
    [DataRow("multiclass", SequencePooling.Mean, GatingKind.TopAny, true)]
    public void TextPipelineExportsFromTokenCodesAndScoresLikeMLNet(string task, SequencePooling pooling, GatingKind gating, bool noExpertInFirstLayer)
    {
        var ml = new MLContext(seed: 2);
        var data = ml.Data.LoadFromEnumerable(Messages(ml));
        var train = ml.Data.TakeRows(data, 400);
        void Configure(DynMoETextOptionsBase o)
        {
            o.Pooling = pooling;
            o.Gating = gating;
            o.TopK = 2;
            o.MoELayers = MoELayerPlacement.All;
            o.ModelDimension = 16;
            o.NumberOfHeads = 2;
            o.ExpertHiddenDimension = 16;
            o.NumberOfLayers = 2;
            o.MaximumSequenceLength = MaximumLength;
            o.NumberOfEpochs = 2;
            o.BatchSize = 32;
            o.Device = DynMoEDevice.Cpu;
            o.Seed = 2;
        }

        var model = TrainPipeline(ml, train, task == "binary", Configure);

        var classifier = model.OfType<DynMoEEncoderTransformer>().Single();
        if (noExpertInFirstLayer)
            RouteNoExpert(((CompiledTransformerEncoder)classifier.Model.Encoder).GetMoELayer(0));

        AssertExportMatches(ml, model, data, task == "binary");
    }

    [TestMethod]
    public void TokenCodesAreTheTokenizersAndTheTokenClassifierRoundTrips()
    {
        var ml = new MLContext(seed: 4);
        var data = ml.Data.LoadFromEnumerable(Messages(ml).Take(200));
        var classifier = ml.BinaryClassification.Trainers.DynMoETextClassification(new DynMoEBinaryTextClassificationTrainer.Options
        {
            LabelColumnName = nameof(Message.Spam), ModelDimension = 8, NumberOfHeads = 2, ExpertHiddenDimension = 8,
            MaximumSequenceLength = MaximumLength, NumberOfEpochs = 1, Device = DynMoEDevice.Cpu, Seed = 4,
        }).Fit(data);
        var tokenizer = ml.Transforms.Text.TokenizeForDynMoE(classifier).Fit(data);
        var tokens = tokenizer.Transform(data);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Int64, MaximumLength), tokens.Schema["Tokens"].Type);

        // The codes are the tokenizer's: the text model's own reader, padded with 0 after the last token.
        var input = classifier.Model.Input;
        var expected = new List<long[]>();
        using (var cursor = data.GetRowCursor(data.Schema))
        {
            var reader = input.CreateReader(cursor);
            var row = new float[MaximumLength];
            while (cursor.MoveNext())
            {
                Array.Clear(row);
                int length = reader(row);
                expected.Add(row.Select((v, i) => i < length ? (long)v : 0L).ToArray());
            }
        }
        var codes = tokens.GetColumn<VBuffer<long>>("Tokens").Select(v => v.DenseValues().ToArray()).ToArray();
        Assert.HasCount(expected.Count, codes);
        for (int i = 0; i < codes.Length; i++)
            CollectionAssert.AreEqual(expected[i], codes[i], $"row {i}");
        Assert.IsTrue(codes.Any(c => c[0] == 0), "an empty message has no tokens");
        Assert.IsTrue(codes.Any(c => c[0] != 0 && c[^1] == 0), "some messages are padded");

        // The tokenizer and the token-reading classifier save and load as ML.NET models; scores are bit-identical.
        var onTokens = classifier.WithTokenInput();
        var expectedScores = classifier.Transform(data).GetColumn<float>("Score").ToArray();
        CollectionAssert.AreEqual(expectedScores, onTokens.Transform(tokens).GetColumn<float>("Score").ToArray());
        var chain = tokenizer.Append(onTokens);
        using var stream = new MemoryStream();
        ml.Model.Save(chain, data.Schema, stream);
        stream.Position = 0;
        var loaded = ml.Model.Load(stream, out _);
        CollectionAssert.AreEqual(expectedScores, loaded.Transform(data).GetColumn<float>("Score").ToArray());

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => onTokens.WithTokenInput());
        Assert.AreEqual("This DynMoE text classifier already reads token codes from column 'Tokens'; call WithTokenInput on the classifier that reads text.", error.Message);
        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => onTokens.Transform(data));
        StringAssert.Contains(missing.Message, "Token column 'Tokens' was not found in the input data. Add it with mlContext.Transforms.Text.TokenizeForDynMoE.");
    }

    [TestMethod]
    public void TextReadingClassifierIsRefusedByTheConverterWithTheWayOut()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Messages(ml).Take(60));
        var model = ml.BinaryClassification.Trainers.DynMoETextClassification(new DynMoEBinaryTextClassificationTrainer.Options
        {
            LabelColumnName = nameof(Message.Spam), ModelDimension = 8, NumberOfHeads = 2, ExpertHiddenDimension = 8,
            MaximumSequenceLength = MaximumLength, NumberOfEpochs = 1, Device = DynMoEDevice.Cpu,
        }).Fit(data);
        Assert.IsFalse(Microsoft.ML.DynMoE.Onnx.DynMoEEncoderOnnxSaver.CanSave(model.Model));
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Model.ConvertToOnnx(model, data, new MemoryStream()));
        StringAssert.Contains(error.Message, "The targeted pipeline can not be fully converted into a well-defined ONNX model");
        Assert.IsTrue(Microsoft.ML.DynMoE.Onnx.DynMoEEncoderOnnxSaver.CanSave(model.WithTokenInput().Model));
    }

    /// <summary>Trains the binary text classifier alone, or the multiclass one between MapValueToKey and MapKeyToValue.</summary>
    internal static TransformerChain<ITransformer> TrainPipeline(MLContext ml, IDataView train, bool binary, Action<DynMoETextOptionsBase> configure)
    {
        if (binary)
        {
            var options = new DynMoEBinaryTextClassificationTrainer.Options { LabelColumnName = nameof(Message.Spam) };
            configure(options);
            return new TransformerChain<ITransformer>(ml.BinaryClassification.Trainers.DynMoETextClassification(options).Fit(train));
        }

        var multiclass = new DynMoEMulticlassTextClassificationTrainer.Options();
        configure(multiclass);
        var fitted = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.DynMoETextClassification(multiclass))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
            .Fit(train);
        return new TransformerChain<ITransformer>(fitted.ToArray());
    }

    /// <summary>
    /// Splits <paramref name="model"/> at its DynMoE text classifier's tokenizer, converts the pipeline from token codes
    /// and checks ONNX Runtime against ML.NET's text pipeline on <paramref name="data"/>: an ORT session on all rows and
    /// on one, ApplyOnnxModel and ML.NET's token-reading pipeline on the first <paramref name="rowByRow"/> rows.
    /// </summary>
    internal static void AssertExportMatches(MLContext ml, TransformerChain<ITransformer> model, IDataView data, bool binary, int rowByRow = BatchRows)
    {
        var classifier = model.OfType<DynMoEEncoderTransformer>().Single();
        // Cached, so the token codes are a column of the data itself: ML.NET's converter walks back through the
        // transforms that made its input view and would stop at the tokenizer, which has no ONNX form.
        var tokenData = ml.Data.Cache(ml.Transforms.Text.TokenizeForDynMoE(classifier)
            .Append(ml.Transforms.DropColumns(nameof(Message.Text), nameof(Message.Second)))
            .Fit(data).Transform(data));
        var onTokens = new TransformerChain<ITransformer>(model.Select(t => t == classifier ? classifier.WithTokenInput() : t).ToArray());

        var expectedView = model.Transform(data);
        var expectedScores = binary
            ? expectedView.GetColumn<float>("Score").Select(s => new[] { s }).ToArray()
            : expectedView.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
        var expectedLabels = binary
            ? expectedView.GetColumn<bool>("PredictedLabel").Select(b => b.ToString()).ToArray()
            : expectedView.GetColumn<ReadOnlyMemory<char>>("PredictedLabel").Select(v => v.ToString()).ToArray();
        Assert.HasCount(BatchRows, expectedScores);
        Assert.IsGreaterThan(1, expectedLabels.Distinct().Count(), "the model predicts more than one class");

        // The token-reading pipeline is the text pipeline, to the bit.
        var firstRows = ml.Data.TakeRows(tokenData, rowByRow);
        var tokenView = onTokens.Transform(firstRows);
        var tokenScores = binary
            ? tokenView.GetColumn<float>("Score").Select(s => new[] { s }).ToArray()
            : tokenView.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
        Assert.HasCount(rowByRow, tokenScores);
        for (int i = 0; i < rowByRow; i++)
            CollectionAssert.AreEqual(expectedScores[i], tokenScores[i], $"row {i} from token codes");

        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(onTokens, tokenData, stream, "Score", "PredictedLabel");
        var bytes = stream.ToArray();

        string file = Path.Combine(Path.GetTempPath(), "dynmoe-text-" + Guid.NewGuid().ToString("N") + ".onnx");
        File.WriteAllBytes(file, bytes);
        try
        {
            var applied = ml.Transforms.ApplyOnnxModel(file).Fit(firstRows).Transform(firstRows);
            AssertClose(expectedScores.Take(rowByRow).ToArray(), applied.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray(), "ApplyOnnxModel");
            var appliedLabels = binary
                ? applied.GetColumn<VBuffer<bool>>("PredictedLabel").Select(v => v.GetItemOrDefault(0).ToString()).ToArray()
                : applied.GetColumn<VBuffer<ReadOnlyMemory<char>>>("PredictedLabel").Select(v => v.GetItemOrDefault(0).ToString()).ToArray();
            CollectionAssert.AreEqual(expectedLabels.Take(rowByRow).ToArray(), appliedLabels, "ApplyOnnxModel labels");
        }
        finally
        {
            File.Delete(file);
        }

        var rows = ReadInputs(tokenData);
        using var session = new InferenceSession(bytes, new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL });
        CollectionAssert.AreEquivalent(new[] { "Label", "Spam", "Tokens" }, session.InputMetadata.Keys.ToArray());
        foreach (int n in new[] { BatchRows, 1 })
        {
            var (scores, labels) = Run(session, rows, n, binary);
            AssertClose(expectedScores.Take(n).ToArray(), scores, $"ORT batch of {n}");
            CollectionAssert.AreEqual(expectedLabels.Take(n).ToArray(), labels, $"ORT batch of {n}: labels");
        }
    }

    internal sealed record Inputs(string[] Labels, bool[] Spam, long[][] Tokens);

    internal static Inputs ReadInputs(IDataView tokenData) => new(
        tokenData.GetColumn<ReadOnlyMemory<char>>("Label").Select(l => l.ToString()).ToArray(),
        tokenData.GetColumn<bool>("Spam").ToArray(),
        tokenData.GetColumn<VBuffer<long>>("Tokens").Select(v => v.DenseValues().ToArray()).ToArray());

    internal static (float[][] Scores, string[] Labels) Run(InferenceSession session, Inputs rows, int n, bool binary)
    {
        int t = rows.Tokens[0].Length;
        using var results = session.Run(new[]
        {
            NamedOnnxValue.CreateFromTensor("Label", new DenseTensor<string>(rows.Labels.Take(n).ToArray(), new[] { n, 1 })),
            NamedOnnxValue.CreateFromTensor("Spam", new DenseTensor<bool>(rows.Spam.Take(n).ToArray(), new[] { n, 1 })),
            NamedOnnxValue.CreateFromTensor("Tokens", new DenseTensor<long>(rows.Tokens.Take(n).SelectMany(r => r).ToArray(), new[] { n, t })),
        });
        var score = results.Single(r => r.Name == "Score.output").AsTensor<float>();
        int classes = score.Dimensions[1];
        var scores = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, classes).Select(j => score[i, j]).ToArray()).ToArray();
        var label = results.Single(r => r.Name == "PredictedLabel.output");
        var labels = binary ? label.AsTensor<bool>().Select(b => b.ToString()).ToArray() : label.AsTensor<string>().ToArray();
        return (scores, labels);
    }

    /// <summary>Scores within <see cref="OnnxExportTests.Tolerance"/>, relative to the score's size when <paramref name="relative"/> (large text logits), else absolute.</summary>
    internal static void AssertClose(float[][] expected, float[][] actual, string what, bool relative = true)
    {
        Assert.HasCount(expected.Length, actual, what);
        double largest = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.HasCount(expected[i].Length, actual[i], what);
            for (int j = 0; j < expected[i].Length; j++)
            {
                double difference = Math.Abs(expected[i][j] - (double)actual[i][j]);
                largest = Math.Max(largest, difference);
                Assert.IsLessThanOrEqualTo(OnnxExportTests.Tolerance * (relative ? Math.Max(1, Math.Abs(expected[i][j])) : 1), difference,
                    $"{what}: Score[{i}][{j}] ML.NET {expected[i][j]}, ONNX {actual[i][j]}");
            }
        }
        Console.WriteLine($"{what}: {expected.Length} rows, largest score difference {largest:E2}");
    }

    /// <summary>
    /// Raises every threshold of <paramref name="layer"/> above any gate score (a sigmoid, below 1), so top-any turns no
    /// expert on for any token and every token takes the fallback expert: the rows that activate no expert, by construction.
    /// </summary>
    internal static void RouteNoExpert(CompiledMoEBlock layer)
    {
        Assert.AreEqual(GatingKind.TopAny, layer.Gating);
        var thresholds = MemoryMarshal.CreateSpan(ref Unsafe.AsRef(in MemoryMarshal.GetReference(layer.Thresholds)), layer.Thresholds.Length);
        thresholds.Fill(2f);
    }

    /// <summary>
    /// 1,000 messages of the shipped spam set cut to their first 0–20 words (empty, padded and truncated sequences), the
    /// next 0–6 words as a second sentence, a Boolean label and a three-class one (spam, short ham, long ham).
    /// </summary>
    internal static IEnumerable<Message> Messages(MLContext ml)
    {
        var spam = TestData.LoadSpam(ml);
        var labels = spam.GetColumn<bool>("Label").ToArray();
        var texts = spam.GetColumn<ReadOnlyMemory<char>>("Text").Select(t => t.ToString()).ToArray();
        for (int i = 0; i < BatchRows; i++)
        {
            var words = texts[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int count = i % 21;
            yield return new Message
            {
                Spam = labels[i],
                Label = labels[i] ? "spam" : words.Length > 60 ? "long" : "short",
                Text = string.Join(' ', words.Take(count)),
                Second = string.Join(' ', words.Skip(count).Take(i % 7)),
            };
        }
    }
}
