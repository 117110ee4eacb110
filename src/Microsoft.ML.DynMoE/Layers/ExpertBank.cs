using System;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// All expert feed-forward networks of one layer, stored as batched weights so every slot exists up front:
/// <c>FFN_e(x) = act(x @ Weight1[e] + Bias1[e]) @ Weight2[e] + Bias2[e]</c>.
/// The forward pass is a sparse, dropless dispatch: only routed (token, expert) pairs are computed.
/// </summary>
public sealed class ExpertBank : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Parameter _weight1;
    private readonly Parameter _bias1;
    private readonly Parameter _weight2;
    private readonly Parameter _bias2;
    private readonly ExpertActivation _activation;

    /// <summary>Creates <paramref name="expertCount"/> experts initialized like <c>nn.Linear</c> (uniform in ±1/sqrt(fan_in)).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="expertCount">Number of expert slots.</param>
    /// <param name="modelDimension">Token width d.</param>
    /// <param name="hiddenDimension">Hidden width h of each expert.</param>
    /// <param name="activation">Nonlinearity between the two projections.</param>
    public ExpertBank(string name, int expertCount, int modelDimension, int hiddenDimension, ExpertActivation activation)
        : base(name)
    {
        if (expertCount < 1) throw new ArgumentOutOfRangeException(nameof(expertCount), expertCount, "expertCount must be at least 1.");
        if (modelDimension < 1) throw new ArgumentOutOfRangeException(nameof(modelDimension), modelDimension, "modelDimension must be at least 1.");
        if (hiddenDimension < 1) throw new ArgumentOutOfRangeException(nameof(hiddenDimension), hiddenDimension, "hiddenDimension must be at least 1.");

        ExpertCount = expertCount;
        ModelDimension = modelDimension;
        HiddenDimension = hiddenDimension;
        _activation = activation;

        double bound1 = 1.0 / Math.Sqrt(modelDimension);
        double bound2 = 1.0 / Math.Sqrt(hiddenDimension);
        _weight1 = new Parameter(UniformSymmetric(bound1, expertCount, modelDimension, hiddenDimension), true);
        _bias1 = new Parameter(UniformSymmetric(bound1, expertCount, hiddenDimension), true);
        _weight2 = new Parameter(UniformSymmetric(bound2, expertCount, hiddenDimension, modelDimension), true);
        _bias2 = new Parameter(UniformSymmetric(bound2, expertCount, modelDimension), true);
        register_parameter("weight1", _weight1);
        register_parameter("bias1", _bias1);
        register_parameter("weight2", _weight2);
        register_parameter("bias2", _bias2);
    }

    /// <summary>Number of expert slots E.</summary>
    public int ExpertCount { get; }

    /// <summary>Token width d.</summary>
    public int ModelDimension { get; }

    /// <summary>Hidden width h of each expert.</summary>
    public int HiddenDimension { get; }

    /// <summary>First projections, <c>[E, d, h]</c>.</summary>
    public Tensor Weight1 => _weight1;

    /// <summary>First biases, <c>[E, h]</c>.</summary>
    public Tensor Bias1 => _bias1;

    /// <summary>Second projections, <c>[E, h, d]</c>.</summary>
    public Tensor Weight2 => _weight2;

    /// <summary>Second biases, <c>[E, d]</c>.</summary>
    public Tensor Bias2 => _bias2;

    /// <summary>Runs expert <paramref name="expert"/> on every row of <paramref name="rows"/> (<c>[n, d]</c>).</summary>
    public Tensor ExpertForward(int expert, Tensor rows)
    {
        using var scope = NewDisposeScope();
        var hidden = torch.addmm(_bias1[expert], rows, _weight1[expert], 1, 1);
        var activated = _activation switch
        {
            ExpertActivation.Relu => nn.functional.relu(hidden),
            ExpertActivation.Silu => nn.functional.silu(hidden),
            _ => nn.functional.gelu(hidden),
        };
        return torch.addmm(_bias2[expert], activated, _weight2[expert], 1, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Sparse dropless dispatch. <paramref name="routed"/> (<c>[S, E]</c> bool) marks the (token, expert) pairs to compute;
    /// <paramref name="combineWeights"/> (<c>[S, E]</c>, same dtype as <paramref name="tokens"/>) holds their weights.
    /// Pairs are grouped by expert, each expert runs once on its gathered rows, and the weighted results are index-added
    /// back per token. Tokens with no routed pair get 0.
    /// </summary>
    /// <param name="tokens">Token matrix <c>[S, d]</c>.</param>
    /// <param name="routed">Routing mask <c>[S, E]</c>.</param>
    /// <param name="combineWeights">Combine weights <c>[S, E]</c>; only routed entries are read.</param>
    /// <returns>The combined expert output <c>[S, d]</c>.</returns>
    public override Tensor forward(Tensor tokens, Tensor routed, Tensor combineWeights)
    {
        using var scope = NewDisposeScope();
        long tokenCount = tokens.shape[0];
        var output = torch.zeros(tokenCount, ModelDimension, dtype: tokens.dtype, device: tokens.device);

        // Transposing first makes nonzero() list the pairs grouped by expert (row-major over [E, S]).
        var pairs = routed.t().nonzero();
        long pairCount = pairs.shape[0];
        if (pairCount == 0)
        {
            // Keep the graph connected so backward through an all-unrouted batch still works.
            return output.add(combineWeights.sum().mul(0)).MoveToOuterDisposeScope();
        }

        var expertIndex = pairs.select(1, 0);
        var tokenIndex = pairs.select(1, 1);
        long[] perExpert = routed.sum(dim: 0, type: ScalarType.Int64).cpu().data<long>().ToArray();

        var flatIndex = expertIndex.mul(tokenCount).add(tokenIndex);
        var pairWeights = combineWeights.t().reshape(-1).index_select(0, flatIndex);
        var gathered = tokens.index_select(0, tokenIndex);

        var outputs = new List<Tensor>(ExpertCount);
        long offset = 0;
        for (int e = 0; e < perExpert.Length; e++)
        {
            long count = perExpert[e];
            if (count == 0) continue;
            outputs.Add(ExpertForward(e, gathered.narrow(0, offset, count)));
            offset += count;
        }

        var expertOutputs = outputs.Count == 1 ? outputs[0] : torch.cat(outputs, 0);
        var weighted = expertOutputs.mul(pairWeights.unsqueeze(1));
        return output.index_add(0, tokenIndex, weighted, 1).MoveToOuterDisposeScope();
    }

    private static Tensor UniformSymmetric(double bound, params long[] shape)
        => torch.rand(shape).mul_(2 * bound).sub_(bound);
}
