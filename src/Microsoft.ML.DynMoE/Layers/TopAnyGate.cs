using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// DynMoE top-any gate (DeepSpeed-fork semantics; docs/routing.md). Scores <c>s = sigmoid(cos(x, W_e)) · m</c>, thresholds
/// <c>t = sigmoid(θ)</c>, gates <c>g = sign(relu(s − t))</c> with an identity (straight-through) backward,
/// <c>K = Σ_e g</c> without gradient, combine weights <c>g / max(K, 1)</c>. In training a token with K = 0 gets no
/// expert; in eval it falls back to <c>argmax_e s_e</c> with weight 1.
/// </summary>
internal sealed class TopAnyGate : nn.Module<Tensor, Tensor, GateDecision>
{
    private readonly AuxiliaryLossKind _auxiliaryLoss;

    /// <summary>Creates the gate with <c>W</c> orthogonal (orthonormal columns when E ≤ d) and <c>θ = thresholdInitialization</c>.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="modelDimension">Token width d.</param>
    /// <param name="slotCount">Number of expert slots E.</param>
    /// <param name="auxiliaryLoss">Resolved auxiliary loss: DiverseAndSimple, DiverseSimpleBalanceEfficiency or None.</param>
    /// <param name="generator">Random generator for the initial weights; null draws from the global torch generator.</param>
    /// <param name="thresholdInitialization">Initial threshold logit θ of every slot (default 0).</param>
    public TopAnyGate(string name, int modelDimension, int slotCount, AuxiliaryLossKind auxiliaryLoss, Generator? generator = null, double thresholdInitialization = 0)
        : base(name)
    {
        _auxiliaryLoss = auxiliaryLoss;
        using (var scope = NewDisposeScope())
        {
            // Orthogonal rows on [E, d], transposed, as in the reference: unit-norm, mutually orthogonal columns when E <= d.
            var rows = generator is null ? nn.init.orthogonal_(torch.empty(slotCount, modelDimension)) : Orthogonal(slotCount, modelDimension, generator);
            register_parameter("gate_embeddings", new Parameter(rows.t().contiguous().DetachFromDisposeScope(), true));
        }

        using var theta = thresholdInitialization.ToScalar();
        register_parameter("thresholds", new Parameter(torch.zeros(slotCount).fill_(theta), true));
    }

    /// <summary>Gate embeddings W, <c>[d, E]</c>.</summary>
    public Tensor GateEmbeddings => get_parameter("gate_embeddings")!;

    /// <summary>Threshold logits θ, <c>[E]</c>; the effective threshold is <c>sigmoid(θ)</c>.</summary>
    public Tensor Thresholds => get_parameter("thresholds")!;

    /// <summary>Routes <paramref name="tokens"/> (<c>[S, d]</c>, float32) over the slots enabled by <paramref name="mask"/> (<c>[E]</c> 0/1).</summary>
    public override GateDecision forward(Tensor tokens, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var embeddings = GateEmbeddings.to(ScalarType.Float32);
        var maskFloat = mask.to(ScalarType.Float32);
        var cosine = RoutingLosses.NormalizeRows(tokens).matmul(RoutingLosses.NormalizeColumns(embeddings));
        var scores = torch.sigmoid(cosine).mul(maskFloat);
        var margin = nn.functional.relu(scores.sub(torch.sigmoid(Thresholds.to(ScalarType.Float32))));

        // Straight-through sign: forward is exactly sign(margin) in {0, 1}; backward is the identity onto margin.
        var hard = margin.detach().sign();
        var gates = TensorNumberOps.AddTensors(hard, margin.sub(margin.detach()));
        var active = TensorNumberOps.GreaterThan(hard, 0);
        var unrouted = active.any(1).logical_not();

        Tensor routed = active;
        Tensor combineSource = gates;
        if (!training)
        {
            // DS eval fallback: a token with no active expert goes to argmax_e s_e with weight 1.
            var best = TensorNumberOps.GreaterThan(nn.functional.one_hot(scores.argmax(1), scores.shape[1]), 0);
            var fallback = best.logical_and(unrouted.unsqueeze(1));
            routed = active.logical_or(fallback);
            combineSource = TensorNumberOps.AddTensors(gates, fallback.to(ScalarType.Float32));
        }

        var counts = TensorNumberOps.ClampMin(routed.sum(1, type: ScalarType.Float32), 1);
        var combine = combineSource.div(counts.unsqueeze(1));
        var auxiliary = ComputeAuxiliaryLoss(embeddings, maskFloat, gates);
        var decision = new GateDecision(
            routed.MoveToOuterDisposeScope(),
            combine.MoveToOuterDisposeScope(),
            unrouted.MoveToOuterDisposeScope(),
            auxiliary.MoveToOuterDisposeScope());
        return decision;
    }

    /// <summary>
    /// <c>orthogonal_</c> drawn from <paramref name="generator"/> (torch's takes only the global one): the Q factor of a
    /// Gaussian matrix, signs fixed by R's diagonal, so rows are orthonormal when rows ≤ columns and columns otherwise.
    /// </summary>
    private static Tensor Orthogonal(int rows, int columns, Generator generator)
    {
        bool tall = rows > columns;
        var gaussian = tall ? torch.randn(rows, columns, generator: generator) : torch.randn(columns, rows, generator: generator);
        var (q, r) = torch.linalg.qr(gaussian);
        q = q.mul(r.diagonal().sign().unsqueeze(0));
        return tall ? q : q.t();
    }

    private Tensor ComputeAuxiliaryLoss(Tensor embeddings, Tensor mask, Tensor gates)
    {
        switch (_auxiliaryLoss)
        {
            case AuxiliaryLossKind.DiverseAndSimple:
                return TensorNumberOps.AddTensors(RoutingLosses.Diversity(embeddings, mask), RoutingLosses.Simplicity(embeddings));
            case AuxiliaryLossKind.DiverseSimpleBalanceEfficiency:
                return TensorNumberOps.AddTensors(
                    TensorNumberOps.AddTensors(RoutingLosses.Diversity(embeddings, mask), RoutingLosses.Simplicity(embeddings)),
                    TensorNumberOps.AddTensors(RoutingLosses.LoadBalance(gates), RoutingLosses.Efficiency(gates)));
            default:
                return torch.zeros(new long[0], dtype: ScalarType.Float32, device: gates.device);
        }
    }
}
