using System;
using System.Collections.Generic;
using System.Linq;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>Shape of a <see cref="BertEncoder"/> and which of its blocks have a mixture-of-experts FFN.</summary>
internal sealed class BertEncoderOptions
{
    /// <summary>Word-piece vocabulary size.</summary>
    public int VocabularySize { get; set; } = 30522;

    /// <summary>Rows of the position table (longest sequence).</summary>
    public int MaximumPositions { get; set; } = 512;

    /// <summary>Token types (segments).</summary>
    public int TypeVocabularySize { get; set; } = 2;

    /// <summary>Token width d.</summary>
    public int ModelDimension { get; set; } = 384;

    /// <summary>Attention heads; divides <see cref="ModelDimension"/>.</summary>
    public int Heads { get; set; } = 12;

    /// <summary>Hidden width of each block's FFN (and of every expert).</summary>
    public int IntermediateDimension { get; set; } = 1536;

    /// <summary>Encoder blocks.</summary>
    public int Layers { get; set; } = 6;

    /// <summary>LayerNorm epsilon.</summary>
    public double LayerNormEpsilon { get; set; } = 1e-12;

    /// <summary>Dropout after the embeddings and on each block's attention and FFN outputs (training only).</summary>
    public double HiddenDropout { get; set; } = 0.1;

    /// <summary>Dropout on the attention probabilities (training only).</summary>
    public double AttentionDropout { get; set; } = 0.1;

    /// <summary>Blocks (0-based) whose FFN routes over experts as <see cref="MoE"/> says; the others are dense.</summary>
    public IReadOnlyList<int> MoEBlocks { get; set; } = Array.Empty<int>();

    /// <summary>
    /// Routing settings of the MoE blocks (gating, expert counts, k, thresholds, adaptation, auxiliary loss); its
    /// ModelDimension, ExpertHiddenDimension and Activation (GELU) are set from this shape. Null: every block dense.
    /// </summary>
    public MoELayerOptions? MoE { get; set; }

    /// <summary>The FFN settings of block <paramref name="block"/>.</summary>
    public MoELayerOptions FeedForwardOptions(int block)
    {
        bool routed = MoE is not null && MoEBlocks.Contains(block);
        var options = routed ? MoE!.Clone() : new MoELayerOptions { Gating = GatingKind.Dense };
        options.ModelDimension = ModelDimension;
        options.ExpertHiddenDimension = IntermediateDimension;
        options.Activation = ExpertActivation.Gelu;
        return options;
    }

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        Require(VocabularySize >= 1, nameof(VocabularySize), VocabularySize, "at least 1");
        Require(MaximumPositions >= 1, nameof(MaximumPositions), MaximumPositions, "at least 1");
        Require(TypeVocabularySize >= 1, nameof(TypeVocabularySize), TypeVocabularySize, "at least 1");
        Require(ModelDimension >= 1, nameof(ModelDimension), ModelDimension, "at least 1");
        Require(Heads >= 1 && ModelDimension % Heads == 0, nameof(Heads), Heads, $"a divisor of ModelDimension ({ModelDimension})");
        Require(IntermediateDimension >= 1, nameof(IntermediateDimension), IntermediateDimension, "at least 1");
        Require(Layers >= 1, nameof(Layers), Layers, "at least 1");
        Require(LayerNormEpsilon > 0, nameof(LayerNormEpsilon), LayerNormEpsilon, "positive");
        Require(HiddenDropout >= 0 && HiddenDropout < 1, nameof(HiddenDropout), HiddenDropout, "in [0, 1)");
        Require(AttentionDropout >= 0 && AttentionDropout < 1, nameof(AttentionDropout), AttentionDropout, "in [0, 1)");
        foreach (int block in MoEBlocks)
            Require(block >= 0 && block < Layers, nameof(MoEBlocks), block, $"a block index in [0, {Layers})");
    }

    private static void Require(bool valid, string name, object value, string range)
    {
        if (!valid) throw new ArgumentOutOfRangeException(name, value, $"{name} must be {range}.");
    }
}
