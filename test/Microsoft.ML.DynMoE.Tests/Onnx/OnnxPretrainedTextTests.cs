using Microsoft.ML.Data;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Onnx;

/// <summary>
/// The pretrained (MiniLM) DynMoE text classifiers through ML.NET's ConvertToOnnx from token codes, as
/// <see cref="OnnxTextEncoderTests"/> checks the Transformer from scratch: WordPiece codes with token types, the BERT
/// embeddings, post-norm blocks with upcycled MoE FFNs and mean pooling in the graph, then the linear head (full
/// fine-tuning) or the tabular DynMoE head (frozen encoder). Tiny fits: 48 messages, one epoch, 8 tokens. MiniLM's
/// width makes each row costly, so the ORT session scores all 1,000 rows (and one), and ApplyOnnxModel, which runs
/// row by row, the first 100.
/// </summary>
[TestClass]
public sealed class OnnxPretrainedTextTests
{
    [TestMethod]
    [DataRow(DynMoEFineTuning.Full, "binary", false)]
    [DataRow(DynMoEFineTuning.FrozenEncoder, "multiclass", true)]
    public void PretrainedTextPipelineExportsFromTokenCodesAndScoresLikeMLNet(DynMoEFineTuning fineTuning, string task, bool sentencePair)
    {
        var ml = new MLContext(seed: 3);
        var data = ml.Data.LoadFromEnumerable(OnnxTextEncoderTests.Messages(ml));
        var train = ml.Data.TakeRows(data, 48);
        void Configure(DynMoETextOptionsBase o)
        {
            o.Encoder = DynMoETextEncoder.MiniLM;
            o.FineTuning = fineTuning;
            o.Sentence2ColumnName = sentencePair ? nameof(OnnxTextEncoderTests.Message.Second) : null;
            o.MaximumSequenceLength = 8;
            o.NumberOfEpochs = 1;
            o.BatchSize = 16;
            o.InitialExperts = 2;
            o.MaximumExperts = 2;
            o.Device = DynMoEDevice.Cpu;
            o.Seed = 3;
        }

        var model = OnnxTextEncoderTests.TrainPipeline(ml, train, task == "binary", Configure);

        OnnxTextEncoderTests.AssertExportMatches(ml, model, data, task == "binary", rowByRow: 100);
    }
}
