using Microsoft.ML.DynMoE.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Pretrained;

/// <summary>Builds a <see cref="BertEncoder"/> from a <see cref="BertCheckpoint"/>, upcycling the FFN of chosen blocks into experts.</summary>
internal static class PretrainedBertEncoder
{
    /// <summary>The encoder settings that reproduce <paramref name="configuration"/>.</summary>
    /// <param name="configuration">The checkpoint's shape.</param>
    /// <param name="moeBlocks">Blocks whose FFN becomes an MoE layer.</param>
    /// <param name="moe">Routing settings of those blocks (null: all dense).</param>
    public static BertEncoderOptions Options(BertConfiguration configuration, IReadOnlyList<int>? moeBlocks = null, MoELayerOptions? moe = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return new BertEncoderOptions
        {
            VocabularySize = configuration.VocabularySize,
            MaximumPositions = configuration.MaximumPositions,
            TypeVocabularySize = configuration.TypeVocabularySize,
            ModelDimension = configuration.ModelDimension,
            Heads = configuration.Heads,
            IntermediateDimension = configuration.IntermediateDimension,
            Layers = configuration.Layers,
            LayerNormEpsilon = configuration.LayerNormEpsilon,
            HiddenDropout = configuration.HiddenDropout,
            AttentionDropout = configuration.AttentionDropout,
            MoEBlocks = moeBlocks ?? Array.Empty<int>(),
            MoE = moe,
        };
    }

    /// <summary>Creates the encoder with the checkpoint's weights; MoE blocks get FFN copies as experts (<see cref="FeedForwardUpcycling"/>).</summary>
    /// <param name="checkpoint">Pretrained parameters.</param>
    /// <param name="moeBlocks">Blocks whose FFN becomes an MoE layer.</param>
    /// <param name="moe">Routing settings of those blocks (null: all dense).</param>
    /// <param name="generator">Generator for what the checkpoint does not hold (gate embeddings); null: the global one.</param>
    public static BertEncoder Create(BertCheckpoint checkpoint, IReadOnlyList<int>? moeBlocks = null, MoELayerOptions? moe = null, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var encoder = new BertEncoder("bert", Options(checkpoint.Configuration, moeBlocks, moe), generator);
        Load(encoder, checkpoint);
        return encoder;
    }

    /// <summary>Copies the checkpoint's parameters into <paramref name="encoder"/> (whose shape must match).</summary>
    public static void Load(BertEncoder encoder, BertCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(checkpoint);
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor T(string name) => ToTensor(checkpoint[name]);

        var embeddings = encoder.Embeddings;
        Copy(embeddings.Words.weight!, T("embeddings.word_embeddings.weight"), "embeddings.word_embeddings.weight");
        Copy(embeddings.Positions.weight!, T("embeddings.position_embeddings.weight"), "embeddings.position_embeddings.weight");
        Copy(embeddings.TokenTypes.weight!, T("embeddings.token_type_embeddings.weight"), "embeddings.token_type_embeddings.weight");
        Copy(embeddings.Norm.weight!, T("embeddings.LayerNorm.weight"), "embeddings.LayerNorm.weight");
        Copy(embeddings.Norm.bias!, T("embeddings.LayerNorm.bias"), "embeddings.LayerNorm.bias");

        for (int l = 0; l < encoder.Blocks.Count; l++)
        {
            var block = encoder.Blocks[l];
            Tensor B(string suffix) => T(BertCheckpoint.BlockParameter(l, suffix));
            var qkvWeight = torch.cat(new[] { B("attention.self.query.weight"), B("attention.self.key.weight"), B("attention.self.value.weight") }, 0);
            var qkvBias = torch.cat(new[] { B("attention.self.query.bias"), B("attention.self.key.bias"), B("attention.self.value.bias") }, 0);
            Copy(block.Attention.QueryKeyValue.weight!, qkvWeight, $"block {l} query/key/value weights");
            Copy(block.Attention.QueryKeyValue.bias!, qkvBias, $"block {l} query/key/value biases");
            Copy(block.Attention.Output.weight!, B("attention.output.dense.weight"), "attention.output.dense.weight");
            Copy(block.Attention.Output.bias!, B("attention.output.dense.bias"), "attention.output.dense.bias");
            Copy(block.AttentionNorm.weight!, B("attention.output.LayerNorm.weight"), "attention.output.LayerNorm.weight");
            Copy(block.AttentionNorm.bias!, B("attention.output.LayerNorm.bias"), "attention.output.LayerNorm.bias");
            Copy(block.OutputNorm.weight!, B("output.LayerNorm.weight"), "output.LayerNorm.weight");
            Copy(block.OutputNorm.bias!, B("output.LayerNorm.bias"), "output.LayerNorm.bias");

            // PyTorch's Linear weights are [out, in]; the experts compute x @ W, so they take the transposes.
            FeedForwardUpcycling.Upcycle(
                block.FeedForward,
                B("intermediate.dense.weight").t(),
                B("intermediate.dense.bias"),
                B("output.dense.weight").t(),
                B("output.dense.bias"));
        }
    }

    private static Tensor ToTensor(CheckpointTensor tensor) => torch.tensor(tensor.Values, tensor.Shape);

    private static void Copy(Tensor destination, Tensor source, string name)
    {
        if (!System.Linq.Enumerable.SequenceEqual(destination.shape, source.shape))
            throw new InvalidOperationException($"Checkpoint parameter {name} has shape [{string.Join(", ", source.shape)}]; the encoder expects [{string.Join(", ", destination.shape)}].");
        destination.copy_(source.to(destination.dtype).to(destination.device));
    }
}
