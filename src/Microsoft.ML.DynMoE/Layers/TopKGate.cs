using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// Classic top-k gate: router logits <c>x @ W_r</c> (no bias), inactive slots excluded, softmax, the k most probable
/// experts per token, their probabilities renormalized to sum 1. The auxiliary loss is Switch/GShard load balancing
/// (<see cref="RoutingLosses.SwitchLoadBalancing"/>).
/// </summary>
internal sealed class TopKGate : nn.Module<Tensor, Tensor, GateDecision>
{
    private readonly int _k;
    private readonly AuxiliaryLossKind _auxiliaryLoss;

    /// <summary>Creates the gate with router weights uniform in ±1/sqrt(d) (the <c>nn.Linear</c> default).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="modelDimension">Token width d.</param>
    /// <param name="slotCount">Number of expert slots E.</param>
    /// <param name="k">Experts per token.</param>
    /// <param name="auxiliaryLoss">Resolved auxiliary loss: SwitchLoadBalancing or None.</param>
    /// <param name="generator">Random generator for the initial weights; null draws from the global torch generator.</param>
    public TopKGate(string name, int modelDimension, int slotCount, int k, AuxiliaryLossKind auxiliaryLoss, Generator? generator = null)
        : base(name)
    {
        _k = k;
        _auxiliaryLoss = auxiliaryLoss;
        double bound = 1.0 / System.Math.Sqrt(modelDimension);
        register_parameter("router_weights", new Parameter(TensorNumberOps.ScaleToSymmetric(torch.rand(modelDimension, slotCount, generator: generator), bound), true));
    }

    /// <summary>Router weights <c>[d, E]</c>.</summary>
    public Tensor RouterWeights => get_parameter("router_weights")!;

    /// <summary>Experts per token.</summary>
    public int K => _k;

    /// <summary>Routes <paramref name="tokens"/> (<c>[S, d]</c>, float32) over the slots enabled by <paramref name="mask"/> (<c>[E]</c> 0/1).</summary>
    public override GateDecision forward(Tensor tokens, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var inactive = TensorNumberOps.EqualTo(mask, 0).unsqueeze(0);
        var logits = TensorNumberOps.MaskedFill(tokens.matmul(RouterWeights.to(ScalarType.Float32)), inactive, double.NegativeInfinity);
        var probabilities = torch.softmax(logits, 1);
        var (topValues, topIndices) = probabilities.topk(_k, 1, true, true);
        var weights = topValues.div(topValues.sum(1, true));

        var combine = torch.zeros_like(probabilities).scatter(1, topIndices, weights);
        var routed = TensorNumberOps.GreaterThan(torch.zeros_like(probabilities).scatter(1, topIndices, torch.ones_like(weights)), 0);
        var unrouted = torch.zeros(tokens.shape[0], dtype: ScalarType.Bool, device: tokens.device);
        var auxiliary = _auxiliaryLoss == AuxiliaryLossKind.SwitchLoadBalancing
            ? RoutingLosses.SwitchLoadBalancing(probabilities, routed, TensorNumberOps.GreaterThan(mask, 0).sum().item<long>())
            : torch.zeros(new long[0], dtype: ScalarType.Float32, device: tokens.device);
        return new GateDecision(
            routed.MoveToOuterDisposeScope(),
            combine.MoveToOuterDisposeScope(),
            unrouted.MoveToOuterDisposeScope(),
            auxiliary.MoveToOuterDisposeScope());
    }
}
