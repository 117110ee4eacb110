using System;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Layers;

/// <summary>
/// Eight classes in four Gaussian regions (centres (±3, ±3), unit spread). Inside each region the class pair is split
/// by a region-specific nonlinear boundary on the local coordinates (u, v): a circle, a parabola, a sine and a sideways parabola.
/// </summary>
internal static class SyntheticMixture
{
    private const double Centre = 3;

    public static (Tensor Features, Tensor Labels) Sample(int count, int seed)
    {
        var random = new Random(seed);
        var features = new float[count * 2];
        var labels = new long[count];
        for (int i = 0; i < count; i++)
        {
            int region = random.Next(4);
            double u = Gaussian(random), v = Gaussian(random);
            bool side = region switch
            {
                0 => u * u + v * v < 1.4,
                1 => v > u * u - 0.7,
                2 => v > 0.5 * Math.Sin(2 * u),
                _ => u > 0.5 * v * v - 0.5,
            };
            // Divided by the centre offset so the features are roughly standardized, as a trainer would do.
            features[2 * i] = (float)((u + (region % 2 == 0 ? -Centre : Centre)) / Centre);
            features[2 * i + 1] = (float)((v + (region < 2 ? -Centre : Centre)) / Centre);
            labels[i] = 2 * region + (side ? 1 : 0);
        }

        return (tensor(features, new long[] { count, 2 }), tensor(labels));
    }

    private static double Gaussian(Random random)
        => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
