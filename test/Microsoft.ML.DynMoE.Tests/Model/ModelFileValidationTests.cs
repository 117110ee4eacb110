using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Model;

/// <summary>
/// A damaged model file fails to load with an <see cref="InvalidDataException"/> or <see cref="FormatException"/> that
/// names the damaged part: never an index error, a null reference, a huge allocation or a hang.
/// </summary>
[TestClass]
public sealed class ModelFileValidationTests
{
    private static MLContext _ml = null!;
    private static IDataView _wine = null!;
    private static ITransformer _topAny = null!;
    private static ITransformer _topK = null!;
    private static IDataView _spam = null!;
    private static ITransformer _text = null!;

    [ClassInitialize]
    public static void TrainSmallModels(TestContext context)
    {
        _ml = new MLContext(seed: 1);
        _wine = _ml.Data.Cache(TestData.LoadNumeric(_ml, "wine", DataKind.String));
        ITransformer Train(GatingKind gating) => _ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(_ml.MulticlassClassification.Trainers.DynMoE(new DynMoEMulticlassTrainer.Options
            {
                NumberOfEpochs = 2, ModelDimension = 8, ExpertHiddenDimension = 8, Gating = gating, TopK = 3, InitialExperts = 4, MaximumExperts = 6,
            }))
            .Fit(_wine);
        _topAny = Train(GatingKind.TopAny);
        _topK = Train(GatingKind.TopK);
        _spam = _ml.Data.TakeRows(TestData.LoadSpam(_ml), 60);
        _text = _ml.BinaryClassification.Trainers.DynMoETextClassification(new DynMoEBinaryTextClassificationTrainer.Options
        {
            ModelDimension = 8, NumberOfHeads = 2, ExpertHiddenDimension = 8, MaximumSequenceLength = 16, NumberOfEpochs = 1,
        }).Fit(_spam);
    }

    private static byte[] Save(ITransformer model, IDataView data)
    {
        using var stream = new MemoryStream();
        _ml.Model.Save(model, data.Schema, stream);
        return stream.ToArray();
    }

    private static Dictionary<string, byte[]> Entries(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        return archive.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var s = e.Open();
            using var copy = new MemoryStream();
            s.CopyTo(copy);
            return copy.ToArray();
        });
    }

    private static byte[] Zip(Dictionary<string, byte[]> entries)
    {
        using var stream = new MemoryStream();
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, bytes) in entries)
            {
                using var s = archive.CreateEntry(name).Open();
                s.Write(bytes);
            }
        }
        return stream.ToArray();
    }

    /// <summary>The entries this library writes: the folder holding its network stream (the predictor's header and the network).</summary>
    private static string[] OwnEntries(Dictionary<string, byte[]> entries, string streamName)
    {
        var folders = entries.Keys.Where(k => k.EndsWith(streamName, StringComparison.Ordinal)).Select(k => k[..^streamName.Length]).ToArray();
        Assert.IsNotEmpty(folders, $"the saved model holds {streamName}");
        return entries.Keys.Where(k => folders.Any(f => k.StartsWith(f, StringComparison.Ordinal) && !k[f.Length..].Contains('/'))).OrderBy(k => k).ToArray();
    }

    /// <summary>Loads and scores; returns null when that worked, else the exception.</summary>
    private static Exception? LoadAndScore(byte[] zip, IDataView data, string scoreColumn)
    {
        try
        {
            var model = new MLContext(seed: 2).Model.Load(new MemoryStream(zip), out _);
            var scored = model.Transform(data);
            var column = scored.Schema[scoreColumn];
            using var cursor = scored.GetRowCursor(new[] { column });
            if (column.Type is VectorDataViewType)
            {
                var getter = cursor.GetGetter<VBuffer<float>>(column);
                VBuffer<float> value = default;
                while (cursor.MoveNext())
                    getter(ref value);
            }
            else
            {
                var getter = cursor.GetGetter<float>(column);
                float value = 0;
                while (cursor.MoveNext())
                    getter(ref value);
            }
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>
    /// ML.NET creates loaders by reflection and reports their errors wrapped ("Error during class instantiation", then
    /// the reflection wrapper); the cause the user reads is the innermost exception.
    /// </summary>
    private static Exception RootCause(Exception error)
    {
        while (error.InnerException is not null && (error is System.Reflection.TargetInvocationException
            || (error is InvalidOperationException && error.Message.StartsWith("Error during class instantiation", StringComparison.Ordinal))))
            error = error.InnerException;
        return error;
    }

    private static void Fuzz(ITransformer model, IDataView data, string streamName, string scoreColumn, int seed)
    {
        byte[] original = Save(model, data);
        Assert.IsNull(LoadAndScore(original, data, scoreColumn), "the undamaged model loads and scores");
        var entries = Entries(original);
        var random = new Random(seed);
        var failures = new List<string>();
        int runs = 0;
        var loadedAfterCut = new List<string>();
        foreach (string name in OwnEntries(entries, streamName))
        {
            byte[] bytes = entries[name];
            var damaged = new List<(string What, byte[] Bytes)>();
            // Cut short at many lengths, including inside the header and just before the end.
            foreach (int length in new[] { 0, 1, 3, 4, 7, 8, 15, 16, 17, bytes.Length / 3, bytes.Length / 2, bytes.Length - 5, bytes.Length - 1 }
                .Concat(Enumerable.Range(0, 12).Select(_ => random.Next(bytes.Length))).Where(l => l >= 0 && l < bytes.Length).Distinct())
                damaged.Add(($"cut to {length} bytes", bytes[..length]));
            // Garbled bytes and garbled 32-bit fields (counts, dimensions, enum values) at random offsets.
            int[] extremes = { int.MaxValue, int.MinValue, -1, 0, 1 << 28, 1 << 20, 0x7FC00000 /* NaN */, 2, 5 };
            for (int i = 0; i < 40; i++)
            {
                var copy = (byte[])bytes.Clone();
                int offset = random.Next(bytes.Length);
                int count = 1 + random.Next(Math.Min(8, bytes.Length - offset));
                for (int j = 0; j < count; j++)
                    copy[offset + j] = (byte)random.Next(256);
                damaged.Add(($"{count} random bytes at {offset}", copy));

                copy = (byte[])bytes.Clone();
                offset = random.Next(Math.Max(1, bytes.Length - 4));
                int value = extremes[random.Next(extremes.Length)];
                if (offset + 4 <= copy.Length)
                    BitConverter.TryWriteBytes(copy.AsSpan(offset, 4), value);
                damaged.Add(($"int {value} at {offset}", copy));
            }

            foreach (var (what, corrupted) in damaged)
            {
                runs++;
                var changed = new Dictionary<string, byte[]>(entries) { [name] = corrupted };
                var error = LoadAndScore(Zip(changed), data, scoreColumn);
                if (error is null)
                {
                    if (what.StartsWith("cut", StringComparison.Ordinal))
                        loadedAfterCut.Add($"{name}, {what}");
                    continue;
                }

                var root = RootCause(error);
                // Model.key starts with ML.NET's own header, whose loader assembly name ML.NET resolves itself.
                bool header = name.EndsWith("Model.key", StringComparison.Ordinal) && root is FileNotFoundException or FileLoadException;
                if (root is not (InvalidDataException or FormatException) && !header)
                    failures.Add($"{root.GetType().Name} | {name}, {what}: {root.Message}\n{root.StackTrace}");
            }
        }
        Assert.IsEmpty(failures, $"{failures.Count} of {runs} damaged models failed with the wrong exception:\n" + string.Join("\n", failures.GroupBy(f => f[..f.IndexOf('|')]).Select(g => $"{g.Count()} × {g.First()}")));
        Assert.IsEmpty(loadedAfterCut, "every cut-short model is rejected");
    }

    [TestMethod]
    public void DamagedTopAnyModelsFailWithClearErrors() => Fuzz(_topAny, _wine, "DynMoENetwork.bin", "Score", seed: 11);

    [TestMethod]
    public void DamagedTopKModelsFailWithClearErrors() => Fuzz(_topK, _wine, "DynMoENetwork.bin", "Score", seed: 12);

    [TestMethod]
    public void DamagedTextModelsFailWithClearErrors() => Fuzz(_text, _spam, "DynMoEEncoder.bin", "Score", seed: 13);

    private static CompiledMoEMlp NetworkOf(ITransformer model)
        => ((TransformerChain<MulticlassPredictionTransformer<DynMoEMulticlassModelParameters>>)model).LastTransformer.Model.Network;

    private static byte[] NetworkBytes() => BinaryBytes.Of(NetworkOf(_topAny).Save);

    private static InvalidDataException LoadFails(byte[] bytes)
        => Assert.Throws<InvalidDataException>(() => CompiledMoEMlp.Load(new BinaryReader(new MemoryStream(bytes))));

    [TestMethod]
    public void NetworkErrorsNameTheDamagedPart()
    {
        byte[] bytes = NetworkBytes();
        var network = NetworkOf(_topAny);
        Assert.AreEqual(13, network.InputDimension);
        Assert.AreEqual(8, network.ModelDimension);

        // Layout: version, input, model, output, then the count-prefixed input projection weights at offset 16.
        var truncated = LoadFails(bytes[..(bytes.Length - 3)]);
        StringAssert.Contains(truncated.Message, "truncated");

        var huge = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(huge.AsSpan(16, 4), int.MaxValue);
        StringAssert.Contains(LoadFails(huge).Message, "input projection weights records 2147483647 values");

        var wrongLength = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(wrongLength.AsSpan(16, 4), 13 * 8 - 1);
        StringAssert.Contains(LoadFails(wrongLength).Message, "input projection weights has 103 values; its dimensions require 104");

        var nan = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(nan.AsSpan(20 + 4 * 5, 4), float.NaN);
        StringAssert.Contains(LoadFails(nan).Message, "input projection weights holds a non-finite value (NaN) at index 5");

        var hugeWidth = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(hugeWidth.AsSpan(8, 4), -8);
        StringAssert.Contains(LoadFails(hugeWidth).Message, "network ModelDimension is -8");

        // The first block follows the input projection (13 × 8 weights, 8 biases) and the layer count:
        // its LayerNorm (8 weights, 8 biases, epsilon), then gating, TopK, activation.
        int block = 16 + 4 + 13 * 8 * 4 + 4 + 8 * 4 + 4;
        int gating = block + (4 + 8 * 4) * 2 + 8;
        var unknownGating = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(unknownGating.AsSpan(gating, 4), 7);
        StringAssert.Contains(LoadFails(unknownGating).Message, "MoE layer 0 gating has the unknown value 7");
        var unknownActivation = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(unknownActivation.AsSpan(gating + 8, 4), 99);
        StringAssert.Contains(LoadFails(unknownActivation).Message, "MoE layer 0 activation has the unknown value 99");
    }

    [TestMethod]
    public void RoutingSummaryWithMoreExpertsThanSlotsIsRejected()
    {
        var layer = new DynMoELayerRouting(0, GatingKind.TopAny, initialExperts: 2, activeExperts: 9, maximumExperts: 4, 1.5, new long[4], new[] { 2, 3 });
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            new DynMoERoutingSummary(new[] { layer }, 10).Write(writer);
        stream.Position = 0;
        var error = Assert.Throws<InvalidDataException>(() => DynMoERoutingSummary.Read(new BinaryReader(stream)));
        StringAssert.Contains(error.Message, "records 2 initial and 9 active experts in 4 slots for layer 0");
    }
}
