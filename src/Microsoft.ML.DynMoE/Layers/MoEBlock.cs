using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>Pre-norm residual MoE block: <c>h + MoE(LayerNorm(h))</c>.</summary>
internal sealed class MoEBlock : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the block.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="options">MoE layer settings; <see cref="MoELayerOptions.ModelDimension"/> is the residual width.</param>
    /// <param name="generator">Random generator for the initial weights; null draws from the global torch generator.</param>
    public MoEBlock(string name, MoELayerOptions options, Generator? generator = null)
        : base(name)
    {
        Norm = nn.LayerNorm(options.ModelDimension);
        MoE = new MoELayer("moe", options, generator);
        register_module("norm", Norm);
        register_module("moe", MoE);
    }

    /// <summary>The pre-norm.</summary>
    public LayerNorm Norm { get; }

    /// <summary>The mixture-of-experts layer.</summary>
    public MoELayer MoE { get; }

    /// <summary>Returns <c>h + MoE(Norm(h))</c>.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return TensorNumberOps.AddTensors(input, MoE.forward(Norm.forward(input))).MoveToOuterDisposeScope();
    }
}
