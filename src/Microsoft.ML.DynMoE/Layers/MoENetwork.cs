using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// A network the shared training loop can train: a module from a float input <c>[N, ...]</c> to outputs <c>[N, O]</c>
/// that exposes its MoE layers (for adaptation and routing statistics) and their summed, weighted auxiliary loss.
/// </summary>
internal abstract class MoENetwork : nn.Module<Tensor, Tensor>
{
    private Tensor? _auxiliaryLoss;
    private Generator? _dropoutGenerator;

    /// <summary>Creates the module.</summary>
    /// <param name="name">Module name.</param>
    protected MoENetwork(string name)
        : base(name)
    {
    }

    /// <summary>The MoE layers of the network, in order (may be empty, e.g. a dense Transformer).</summary>
    public abstract IReadOnlyList<MoELayer> MoELayers { get; }

    /// <summary>Parameters loaded from a pretrained checkpoint, trained at a lower learning rate (none by default).</summary>
    public virtual IEnumerable<TorchSharp.Modules.Parameter> PretrainedParameters => Array.Empty<TorchSharp.Modules.Parameter>();

    /// <summary>Sum of the MoE layers' auxiliary losses from the last forward, times the network's weight; null before any forward.</summary>
    public Tensor? AuxiliaryLoss => _auxiliaryLoss;

    /// <summary>Sums the auxiliary losses the MoE layers left from this forward, multiplies by <paramref name="weight"/> and keeps the result.</summary>
    /// <param name="weight">Coefficient of the auxiliary loss in the total loss.</param>
    /// <param name="device">Device of the scalar when the network has no MoE layer.</param>
    protected void CollectAuxiliaryLoss(float weight, Device device)
    {
        using var scope = NewDisposeScope();
        var total = torch.zeros(new long[0], dtype: ScalarType.Float32, device: device);
        foreach (var layer in MoELayers)
        {
            if (layer.AuxiliaryLoss is Tensor loss)
                total = TensorNumberOps.AddTensors(total, loss);
        }

        _auxiliaryLoss?.Dispose();
        _auxiliaryLoss = TensorNumberOps.Multiply(total, weight).DetachFromDisposeScope();
    }

    /// <summary>
    /// Gives the network's dropout modules one generator seeded from the run's (see <see cref="SeededDropout.SeedAll"/>);
    /// call once, at the end of the constructor.
    /// </summary>
    /// <param name="generator">The initialisation generator; null leaves dropout on the global generator.</param>
    protected void SeedDropout(Generator? generator) => _dropoutGenerator = SeededDropout.SeedAll(this, generator);

    /// <summary>Disposes the tensors kept across forwards and the dropout generator.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _auxiliaryLoss?.Dispose();
            _dropoutGenerator?.Dispose();
        }

        base.Dispose(disposing);
    }
}
