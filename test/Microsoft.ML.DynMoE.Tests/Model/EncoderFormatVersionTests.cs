using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Model;

/// <summary>
/// The encoder model's stream from version 0x00010002 records the encoder kind before the encoder; a 0x00010001 stream
/// (the same bytes without the kind) still loads as a Transformer from scratch and scores the same.
/// </summary>
[TestClass]
public sealed class EncoderFormatVersionTests
{
    [TestMethod]
    public void StreamWithoutTheEncoderKindLoadsAsATransformer()
    {
        var ml = new MLContext(seed: 1);
        var spam = ml.Data.TakeRows(TestData.LoadSpam(ml), 40);
        var model = ml.BinaryClassification.Trainers.DynMoETextClassification(new DynMoEBinaryTextClassificationTrainer.Options
        {
            ModelDimension = 8, NumberOfHeads = 2, ExpertHiddenDimension = 8, MaximumSequenceLength = 16, NumberOfEpochs = 1,
        }).Fit(spam);
        var parameters = model.Model;

        byte[] current = BinaryBytes.Of(parameters.Save);
        byte[] encoder = BinaryBytes.Of(parameters.Encoder.Save);
        int prefix = current.Length - encoder.Length - sizeof(int);
        Assert.AreEqual(1, System.BitConverter.ToInt32(current, prefix), "kind 1: a Transformer trained from scratch");
        byte[] legacy = current.Take(prefix).Concat(encoder).ToArray();

        using var reader = new BinaryReader(new MemoryStream(legacy));
        var loaded = DynMoEEncoderModelParameters.Load(ml, reader, recordsEncoderKind: false);
        Assert.AreEqual(legacy.Length, reader.BaseStream.Position, "the whole legacy stream is read");
        var scratchBefore = parameters.Encoder.CreateScratch();
        var scratchAfter = loaded.Encoder.CreateScratch();
        var row = new float[] { 3, 4, 5, 6 };
        var before = new float[1];
        var after = new float[1];
        parameters.Score(row, before, scratchBefore);
        loaded.Score(row, after, scratchAfter);
        CollectionAssert.AreEqual(before, after);
    }
}
