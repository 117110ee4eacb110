using System;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// Turns a pretrained feed-forward network <c>GELU(x W1 + b1) W2 + b2</c> into the experts of an <see cref="MoELayer"/>:
/// every slot, active or not, becomes a full copy, so an expert that adaptation activates later also starts from the
/// pretrained FFN (its slot keeps its own weights under <see cref="NewExpertInitialization.Random"/>, as the authors'
/// slots do). The layer combines a token's experts with weights that sum to 1 (top-any: the mean of the active
/// experts, <c>1/K</c> each; eval tokens with no active expert fall back to one expert with weight 1; top-k:
/// renormalised probabilities), so identical experts give exactly the FFN's output and the upcycled model computes the
/// pretrained function at step 0. The authors' BERT code also divides the second bias by <c>E_max</c>; that would scale
/// the bias by <c>1/E_max</c> under a mean, so the bias is copied whole here.
/// Gates: top-any keeps its own initialisation (orthogonal embeddings, thresholds at
/// <see cref="MoELayerOptions.ThresholdInitialization"/>), as the authors' DynMoE runs do; a top-k router column is the
/// expert's key, the mean of its first-layer weight vectors (one per hidden unit), as the authors' top-k baselines are
/// initialised; with full copies all keys coincide and the experts diverge through training.
/// </summary>
internal static class FeedForwardUpcycling
{
    /// <summary>Copies the FFN into every expert slot of <paramref name="layer"/> and initialises its gate.</summary>
    /// <param name="layer">The layer to overwrite.</param>
    /// <param name="weight1">First projection <c>[d, h]</c> (input-major, as the experts store it).</param>
    /// <param name="bias1">First bias <c>[h]</c>.</param>
    /// <param name="weight2">Second projection <c>[h, d]</c>.</param>
    /// <param name="bias2">Second bias <c>[d]</c>.</param>
    public static void Upcycle(MoELayer layer, Tensor weight1, Tensor bias1, Tensor weight2, Tensor bias2)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var experts = layer.Experts;
        long d = experts.ModelDimension, h = experts.HiddenDimension;
        RequireShape(weight1, nameof(weight1), d, h);
        RequireShape(bias1, nameof(bias1), h);
        RequireShape(weight2, nameof(weight2), h, d);
        RequireShape(bias2, nameof(bias2), d);

        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        CopyToEverySlot(experts.Weight1, weight1);
        CopyToEverySlot(experts.Bias1, bias1);
        CopyToEverySlot(experts.Weight2, weight2);
        CopyToEverySlot(experts.Bias2, bias2);

        if (layer.RouterWeights is Tensor router)
        {
            var key = weight1.to(router.dtype).to(router.device).mean(new long[] { 1 });
            router.copy_(key.unsqueeze(1).expand(router.shape));
        }
    }

    private static void CopyToEverySlot(Tensor slots, Tensor source)
    {
        var value = source.to(slots.dtype).to(slots.device).unsqueeze(0);
        slots.copy_(value.expand(slots.shape));
    }

    private static void RequireShape(Tensor tensor, string name, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        if (!System.Linq.Enumerable.SequenceEqual(tensor.shape, shape))
            throw new ArgumentException($"{name} has shape [{string.Join(", ", tensor.shape)}], expected [{string.Join(", ", shape)}].", name);
    }
}
