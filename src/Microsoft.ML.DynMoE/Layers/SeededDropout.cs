using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// Inverted dropout whose mask comes from a generator of the run rather than libtorch's process-global one: in
/// training, <c>x · (u ≥ p) / (1 − p)</c> with <c>u ~ U[0, 1)</c> drawn from <see cref="Generator"/>; the identity in
/// eval mode or when <c>p = 0</c> (no draw, no operation). libtorch's own dropout draws from the global generator, so two
/// fits with one seed would differ and fits running on parallel threads would take each other's draws.
/// </summary>
internal sealed class SeededDropout : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="probability">Probability of zeroing an element, in [0, 1).</param>
    /// <param name="generator">Generator of the masks; null draws from the global torch generator until <see cref="Generator"/> is set.</param>
    public SeededDropout(string name, double probability, Generator? generator = null)
        : base(name)
    {
        if (!(probability >= 0 && probability < 1))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "probability must be in [0, 1).");
        Probability = probability;
        Generator = generator;
    }

    /// <summary>Probability of zeroing an element in training.</summary>
    public double Probability { get; }

    /// <summary>True when the module ever changes its input (training with <see cref="Probability"/> &gt; 0).</summary>
    public bool IsActive => training && Probability > 0;

    /// <summary>Generator of the masks (a CPU generator; the mask moves to the input's device). Not owned.</summary>
    public Generator? Generator { get; set; }

    /// <summary>Returns <paramref name="input"/> itself when inactive, else a fresh tensor with dropped, rescaled elements.</summary>
    public override Tensor forward(Tensor input)
    {
        if (!IsActive)
            return input;
        using var scope = NewDisposeScope();
        var mask = Mask(input.shape, input.dtype);
        if (mask.device != input.device)
            mask = mask.to(input.device);
        return input.mul(mask).MoveToOuterDisposeScope();
    }

    /// <summary>The scaled keep mask <c>(u ≥ p) / (1 − p)</c> of shape <paramref name="shape"/>, on the CPU.</summary>
    internal Tensor Mask(long[] shape, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using Scalar threshold = Probability.ToScalar();
        var keep = torch.rand(shape, generator: Generator).ge(threshold);
        return TensorNumberOps.Multiply(keep.to(dtype), 1.0 / (1 - Probability)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Gives every <see cref="SeededDropout"/> under <paramref name="root"/> that can drop one generator, seeded from
    /// <paramref name="initialization"/>'s seed (not from its draws, so the initial weights do not depend on the dropout
    /// settings). The modules draw from it in forward order, so a fit repeats exactly for one seed.
    /// </summary>
    /// <param name="root">The network.</param>
    /// <param name="initialization">The run's initialisation generator; null leaves the modules on the global generator.</param>
    /// <returns>The new generator, owned by the caller; null when no module drops or <paramref name="initialization"/> is null.</returns>
    public static Generator? SeedAll(nn.Module root, Generator? initialization)
    {
        ArgumentNullException.ThrowIfNull(root);
        var dropouts = root.modules().OfType<SeededDropout>().Where(d => d.Probability > 0).ToArray();
        if (initialization is null || dropouts.Length == 0)
            return null;
        var generator = new Generator(DropoutSeed(unchecked((ulong)initialization.initial_seed())), torch.CPU);
        foreach (var dropout in dropouts)
            dropout.Generator = generator;
        return generator;
    }

    /// <summary>A seed for the dropout stream distinct from the initialisation seed (one SplitMix64 step).</summary>
    internal static ulong DropoutSeed(ulong seed)
    {
        unchecked
        {
            ulong z = seed + 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
