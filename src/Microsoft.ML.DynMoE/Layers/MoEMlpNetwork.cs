using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// Feed-forward MoE network for tabular data: <c>h = InputProjection(x)</c>; for each block <c>h = h + Dropout(MoE(Norm(h)))</c>;
/// <c>logits = Head(FinalNorm(h))</c>. Maps <c>[N, InputDimension]</c> to <c>[N, OutputDimension]</c>.
/// Initialization draws from the given generator (or the global one when none is given).
/// </summary>
internal sealed class MoEMlpNetwork : MoENetwork
{
    private readonly MoEBlock[] _blocks;

    /// <summary>Creates the network.</summary>
    /// <param name="options">Settings; validated and copied.</param>
    /// <param name="generator">Random generator for the initial weights; null draws from the global torch generator.</param>
    public MoEMlpNetwork(MoEMlpNetworkOptions options, Generator? generator = null)
        : base(nameof(MoEMlpNetwork))
    {
        System.ArgumentNullException.ThrowIfNull(options);
        Options = options.Clone();
        int width = Options.Layer.ModelDimension;

        InputProjection = Initialization.Linear(Options.InputDimension, width, generator);
        register_module("input_projection", InputProjection);
        _blocks = new MoEBlock[Options.NumberOfLayers];
        for (int i = 0; i < _blocks.Length; i++)
        {
            _blocks[i] = new MoEBlock($"block{i}", Options.Layer, generator, Options.Dropout);
            register_module($"block{i}", _blocks[i]);
        }

        FinalNorm = nn.LayerNorm(width);
        Head = Initialization.Linear(width, Options.OutputDimension, generator);
        register_module("final_norm", FinalNorm);
        register_module("head", Head);
        MoELayers = _blocks.Select(b => b.MoE).ToArray();
        SeedDropout(generator);
    }

    /// <summary>The (copied, validated) settings.</summary>
    public MoEMlpNetworkOptions Options { get; }

    /// <summary>Projection from the inputs to the residual width.</summary>
    public Linear InputProjection { get; }

    /// <summary>The residual MoE blocks, in order.</summary>
    public IReadOnlyList<MoEBlock> Blocks => _blocks;

    /// <summary>Normalization before the head.</summary>
    public LayerNorm FinalNorm { get; }

    /// <summary>Output layer.</summary>
    public Linear Head { get; }

    /// <summary>The MoE layer of every block, in order.</summary>
    public override IReadOnlyList<MoELayer> MoELayers { get; }

    /// <summary>Computes logits <c>[N, OutputDimension]</c> from <paramref name="input"/> <c>[N, InputDimension]</c>.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var hidden = InputProjection.forward(input);
        foreach (var block in _blocks)
        {
            hidden = block.forward(hidden);
        }

        var output = Head.forward(FinalNorm.forward(hidden));
        CollectAuxiliaryLoss(Options.AuxiliaryLossWeight, output.device);
        return output.MoveToOuterDisposeScope();
    }
}
