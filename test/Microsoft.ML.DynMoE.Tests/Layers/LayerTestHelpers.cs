using System;
using System.Linq;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Layers;

/// <summary>Small builders and assertions shared by the layer tests.</summary>
internal static class LayerTestHelpers
{
    public static MoELayer TopAny(int d, int slots, int initial, int hidden = 5, long seed = 1)
    {
        torch.random.manual_seed(seed);
        return new MoELayer("moe", new MoELayerOptions
        {
            ModelDimension = d,
            ExpertHiddenDimension = hidden,
            MaximumExperts = slots,
            InitialExperts = initial,
        });
    }

    public static Tensor Matrix(float[,] values)
    {
        int rows = values.GetLength(0), cols = values.GetLength(1);
        var flat = new float[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                flat[i * cols + j] = values[i, j];
        return torch.tensor(flat, new long[] { rows, cols });
    }

    public static void Set(Tensor target, Tensor value)
    {
        using var noGrad = torch.no_grad();
        target.copy_(value);
    }

    public static float[] Floats(Tensor t) => t.detach().cpu().to(ScalarType.Float32).data<float>().ToArray();

    public static long[] Longs(Tensor t) => t.detach().cpu().to(ScalarType.Int64).data<long>().ToArray();

    public static bool[] Bools(Tensor t) => t.detach().cpu().data<bool>().ToArray();

    /// <summary>||actual - expected|| / max(||expected||, 1e-12).</summary>
    public static double RelativeError(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        double diff = actual.detach().sub(expected.detach()).norm().item<float>();
        double norm = expected.detach().norm().item<float>();
        return diff / Math.Max(norm, 1e-12);
    }

    public static void AreClose(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.HasCount(expected.Length, actual, what);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual[i], tolerance, $"{what}[{i}]");
        }
    }
}
