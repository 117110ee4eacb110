using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// Parameter initialisation from an explicit generator, so two networks built at the same time on different threads
/// each get the weights their own seed gives (the global torch generator is shared by the whole process).
/// </summary>
internal static class Initialization
{
    /// <summary><c>nn.Linear(inputs, outputs)</c> with torch's default init (uniform in ±1/√inputs) drawn from <paramref name="generator"/>.</summary>
    public static Linear Linear(int inputs, int outputs, Generator? generator)
    {
        var linear = nn.Linear(inputs, outputs);
        if (generator is not null)
        {
            using var noGrad = torch.no_grad();
            // Drawn with torch.rand and copied: nn.init.uniform_ in TorchSharp 0.107 ignores its generator argument.
            double bound = 1.0 / System.Math.Sqrt(inputs);
            using var scope = NewDisposeScope();
            linear.weight!.copy_(TensorNumberOps.ScaleToSymmetric(torch.rand(outputs, inputs, generator: generator), bound));
            linear.bias!.copy_(TensorNumberOps.ScaleToSymmetric(torch.rand(outputs, generator: generator), bound));
        }

        return linear;
    }

    /// <summary>A trainable tensor of the given shape drawn from N(0, std²).</summary>
    public static Parameter Normal(double std, Generator? generator, params long[] shape)
        => new(TensorNumberOps.MultiplyInPlace(torch.randn(shape, generator: generator), std), true);
}
