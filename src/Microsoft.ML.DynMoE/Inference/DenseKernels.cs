using System;
using System.Numerics.Tensors;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>Small dense kernels over row-major arrays, vectorised through TensorPrimitives.</summary>
internal static class DenseKernels
{
    /// <summary>output = weight · input + bias, with weight stored [output, input] row-major (torch's Linear layout).</summary>
    public static void Linear(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> input, Span<float> output)
    {
        int inputs = input.Length;
        for (int o = 0; o < bias.Length; o++)
            output[o] = TensorPrimitives.Dot(weight.Slice(o * inputs, inputs), input) + bias[o];
    }
}
