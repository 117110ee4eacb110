using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>Auxiliary routing losses (DynMoE's diversity/simplicity/efficiency terms and Switch/GShard load balancing). Inputs are float32.</summary>
internal static class RoutingLosses
{
    /// <summary>
    /// DynMoE diversity term: <c>‖(Ŵᵀ Ŵ) ⊙ M − I ⊙ M‖_F</c> (Frobenius norm, not squared), where Ŵ is the column-normalized
    /// gate embedding matrix and <c>M = m mᵀ</c>, so inactive slots never contribute.
    /// </summary>
    /// <param name="gateEmbeddings">W, <c>[d, E]</c>.</param>
    /// <param name="mask">m, <c>[E]</c> 0/1.</param>
    public static Tensor Diversity(Tensor gateEmbeddings, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var normalized = NormalizeColumns(gateEmbeddings);
        var pairMask = mask.unsqueeze(1).mul(mask.unsqueeze(0));
        var gram = normalized.t().matmul(normalized);
        var identity = torch.eye(mask.shape[0], dtype: gram.dtype, device: gram.device);
        return gram.mul(pairMask).sub(identity.mul(pairMask)).norm().MoveToOuterDisposeScope();
    }

    /// <summary>DynMoE simplicity term: mean over all E columns (active or not) of the unnormalized column norm <c>‖W[:, e]‖₂</c>.</summary>
    /// <param name="gateEmbeddings">W, <c>[d, E]</c>.</param>
    public static Tensor Simplicity(Tensor gateEmbeddings)
    {
        using var scope = NewDisposeScope();
        return gateEmbeddings.norm(0, false, 2).mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// DeepSpeed-fork load-balance term. With A the tokens with K ≥ 1 and E the slot count:
    /// <c>p[t,e] = g[t,e] / Σ_e g[t,e]</c>, <c>me_e = mean_{t∈A} p[t,e]</c> (differentiable),
    /// <c>ce_e = mean_{t∈A} g[t,e]</c> (no gradient), <c>L = E² · mean_e(me_e · ce_e)</c>; 0 when A is empty.
    /// </summary>
    /// <param name="gates">Binary gates g <c>[S, E]</c> with straight-through gradient.</param>
    public static Tensor LoadBalance(Tensor gates)
    {
        using var scope = NewDisposeScope();
        long slots = gates.shape[1];
        var perToken = gates.sum(1);
        var anyActive = TensorNumberOps.GreaterThan(perToken.detach(), 0);
        long activeTokens = anyActive.sum().item<long>();
        if (activeTokens == 0)
        {
            return TensorNumberOps.Multiply(gates.sum(), 0).MoveToOuterDisposeScope();
        }

        var rows = anyActive.nonzero().squeeze(1);
        var activeGates = gates.index_select(0, rows);
        var share = activeGates.div(activeGates.sum(1, true));
        var meanShare = share.mean(new long[] { 0 });
        var meanCount = activeGates.detach().mean(new long[] { 0 });
        return TensorNumberOps.Multiply(meanShare.mul(meanCount).mean(), slots * slots).MoveToOuterDisposeScope();
    }

    /// <summary>DeepSpeed-fork efficiency term: mean over all tokens and slots of g (= average K / E).</summary>
    /// <param name="gates">Binary gates g <c>[S, E]</c> with straight-through gradient.</param>
    public static Tensor Efficiency(Tensor gates) => gates.mean();

    /// <summary>
    /// Switch/GShard load balancing for top-k routing:
    /// <c>L = E_active · Σ_e f_e · P_e</c>, where <c>f_e = (number of the S·k selections that chose e) / (S·k)</c> (no gradient)
    /// and <c>P_e = mean_t softmax probability of e</c> (differentiable). Uniform routing gives exactly 1.
    /// </summary>
    /// <param name="probabilities">Router softmax over active experts, <c>[S, E]</c> (0 for inactive slots).</param>
    /// <param name="selected">Selection mask <c>[S, E]</c> bool with exactly k true entries per row.</param>
    /// <param name="activeExperts">Number of active experts E_active.</param>
    public static Tensor SwitchLoadBalancing(Tensor probabilities, Tensor selected, long activeExperts)
    {
        using var scope = NewDisposeScope();
        var selectedFloat = selected.to(probabilities.dtype);
        var fraction = selectedFloat.sum(dim: 0).div(TensorNumberOps.ClampMin(selectedFloat.sum(), 1));
        var meanProbability = probabilities.mean(new long[] { 0 });
        return TensorNumberOps.Multiply(fraction.mul(meanProbability).sum(), activeExperts).MoveToOuterDisposeScope();
    }

    /// <summary>Divides each column by <c>max(‖column‖₂, 1e-12)</c> (F.normalize over dim 0; sqrt of sum of squares, whose backward is cheaper than norm's).</summary>
    internal static Tensor NormalizeColumns(Tensor matrix)
        => matrix.div(TensorNumberOps.ClampMin(matrix.mul(matrix).sum(dim: 0, keepdim: true).sqrt(), 1e-12));

    /// <summary>Divides each row by <c>max(‖row‖₂, 1e-12)</c> (F.normalize over dim 1).</summary>
    internal static Tensor NormalizeRows(Tensor matrix)
        => matrix.div(TensorNumberOps.ClampMin(matrix.mul(matrix).sum(dim: 1, keepdim: true).sqrt(), 1e-12));
}
