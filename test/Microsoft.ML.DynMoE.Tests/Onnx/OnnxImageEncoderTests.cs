using System;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Images;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Onnx;

/// <summary>
/// The DynMoE image classifier through ML.NET's ConvertToOnnx, as a whole pipeline (label keys, the classifier, the
/// class name back): pixels in, patches, self-attention, routed FFNs, pooling and head in the graph. ONNX Runtime
/// gives ML.NET's scores within <see cref="OnnxExportTests.Tolerance"/> and identical labels, at batch sizes 1 and 1,000.
/// Non-square 3-channel images in both pixel layouts check the patch cutting; digits checks real data.
/// </summary>
[TestClass]
public sealed class OnnxImageEncoderTests
{
    private const int BatchRows = 1000;

    private sealed class Image
    {
        public string Label { get; set; } = "";
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    [TestMethod]
    [DataRow("digits", SequencePooling.Mean, GatingKind.TopAny, false)]
    [DataRow("rgb", SequencePooling.ClassToken, GatingKind.TopK, true)]
    [DataRow("rgb", SequencePooling.Mean, GatingKind.TopAny, false)]
    public void ImagePipelineExportsAndScoresLikeMLNet(string images, SequencePooling pooling, GatingKind gating, bool interleaved)
    {
        var ml = new MLContext(seed: 3);
        var (rows, height, width) = images == "digits" ? Digits(ml) : Rgb(interleaved);
        var schema = SchemaDefinition.Create(typeof(Image));
        schema[nameof(Image.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Features.Length);
        var data = ml.Data.LoadFromEnumerable(rows, schema);

        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.DynMoEImageClassification(new DynMoEImageClassificationTrainer.Options
            {
                ImageHeight = height, ImageWidth = width, PatchSize = 2, InterleavedColors = interleaved,
                Pooling = pooling, Gating = gating, TopK = 2, MoELayers = MoELayerPlacement.All,
                ModelDimension = 16, NumberOfHeads = 2, ExpertHiddenDimension = 16, NumberOfLayers = 2,
                NumberOfEpochs = 2, BatchSize = 64, Device = DynMoEDevice.Cpu, Seed = 3,
            }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
            .Fit(data);

        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, data, stream, "Score", "PredictedLabel");
        var bytes = stream.ToArray();

        var expectedView = model.Transform(data);
        var expectedScores = expectedView.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
        var expectedLabels = expectedView.GetColumn<ReadOnlyMemory<char>>("PredictedLabel").Select(v => v.ToString()).ToArray();
        Assert.HasCount(BatchRows, expectedScores);

        string file = Path.Combine(Path.GetTempPath(), "dynmoe-image-" + Guid.NewGuid().ToString("N") + ".onnx");
        File.WriteAllBytes(file, bytes);
        try
        {
            var applied = ml.Transforms.ApplyOnnxModel(file).Fit(data).Transform(data);
            OnnxTextEncoderTests.AssertClose(expectedScores, applied.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray(), "ApplyOnnxModel", relative: false);
            CollectionAssert.AreEqual(expectedLabels,
                applied.GetColumn<VBuffer<ReadOnlyMemory<char>>>("PredictedLabel").Select(v => v.GetItemOrDefault(0).ToString()).ToArray(), "ApplyOnnxModel labels");
        }
        finally
        {
            File.Delete(file);
        }

        using var session = new InferenceSession(bytes, new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL });
        foreach (int n in new[] { BatchRows, 1 })
        {
            var (scores, labels) = Run(session, rows.Take(n).ToArray());
            OnnxTextEncoderTests.AssertClose(expectedScores.Take(n).ToArray(), scores, $"ORT batch of {n}", relative: false);
            CollectionAssert.AreEqual(expectedLabels.Take(n).ToArray(), labels, $"ORT batch of {n}: labels");
        }
    }

    private static (float[][] Scores, string[] Labels) Run(InferenceSession session, Image[] rows)
    {
        int n = rows.Length, width = rows[0].Features.Length;
        using var results = session.Run(new[]
        {
            NamedOnnxValue.CreateFromTensor("Label", new DenseTensor<string>(rows.Select(r => r.Label).ToArray(), new[] { n, 1 })),
            NamedOnnxValue.CreateFromTensor("Features", new DenseTensor<float>(rows.SelectMany(r => r.Features).ToArray(), new[] { n, width })),
        });
        var score = results.Single(r => r.Name == "Score.output").AsTensor<float>();
        int classes = score.Dimensions[1];
        var scores = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, classes).Select(j => score[i, j]).ToArray()).ToArray();
        return (scores, results.Single(r => r.Name == "PredictedLabel.output").AsTensor<string>().ToArray());
    }

    /// <summary>The first 1,000 digits (8×8, one channel).</summary>
    private static (Image[] Rows, int Height, int Width) Digits(MLContext ml)
    {
        var data = TestData.LoadNumeric(ml, "digits", DataKind.String);
        var labels = data.GetColumn<ReadOnlyMemory<char>>("Label").Select(l => l.ToString()).ToArray();
        var features = data.GetColumn<VBuffer<float>>("Features").Select(v => v.DenseValues().ToArray()).ToArray();
        return (Enumerable.Range(0, BatchRows).Select(i => new Image { Label = labels[i], Features = features[i] }).ToArray(), 8, 8);
    }

    /// <summary>
    /// 1,000 random 4×6 RGB images whose class is the brightest channel, laid out planar or interleaved; the rectangle
    /// and the three channels make a wrong patch order show.
    /// </summary>
    private static (Image[] Rows, int Height, int Width) Rgb(bool interleaved)
    {
        const int height = 4, width = 6, channels = 3;
        var random = new Random(7);
        var rows = new Image[BatchRows];
        for (int n = 0; n < BatchRows; n++)
        {
            var pixels = new float[height * width * channels];
            var sums = new double[channels];
            for (int c = 0; c < channels; c++)
                for (int y = 0; y < height; y++)
                    for (int x = 0; x < width; x++)
                    {
                        float value = (float)random.Next(256);
                        sums[c] += value;
                        pixels[interleaved ? (y * width + x) * channels + c : (c * height + y) * width + x] = value;
                    }
            rows[n] = new Image { Label = "rgb"[Array.IndexOf(sums, sums.Max())].ToString(), Features = pixels };
        }
        return (rows, height, width);
    }
}
