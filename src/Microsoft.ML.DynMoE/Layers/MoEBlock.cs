using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>Pre-norm residual MoE block: <c>h + Dropout(MoE(LayerNorm(h)))</c>, the dropout acting in training only.</summary>
internal sealed class MoEBlock : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the block.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="options">MoE layer settings; <see cref="MoELayerOptions.ModelDimension"/> is the residual width.</param>
    /// <param name="generator">Random generator for the initial weights; null draws from the global torch generator.</param>
    /// <param name="dropout">Dropout on the MoE output before the residual sum, in [0, 1); 0 by default.</param>
    public MoEBlock(string name, MoELayerOptions options, Generator? generator = null, double dropout = 0)
        : base(name)
    {
        Norm = nn.LayerNorm(options.ModelDimension);
        MoE = new MoELayer("moe", options, generator);
        Dropout = new SeededDropout("dropout", dropout);
        register_module("norm", Norm);
        register_module("moe", MoE);
        register_module("dropout", Dropout);
    }

    /// <summary>The pre-norm.</summary>
    public LayerNorm Norm { get; }

    /// <summary>The mixture-of-experts layer.</summary>
    public MoELayer MoE { get; }

    /// <summary>Dropout on the residual branch.</summary>
    public SeededDropout Dropout { get; }

    /// <summary>Returns <c>h + Dropout(MoE(Norm(h)))</c>.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return TensorNumberOps.AddTensors(input, Dropout.forward(MoE.forward(Norm.forward(input)))).MoveToOuterDisposeScope();
    }
}
