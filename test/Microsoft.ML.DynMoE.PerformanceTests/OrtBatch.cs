using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.DynMoE.PerformanceTests;

/// <summary>The ONNX Runtime side of the ONNX scoring benchmarks: one batch tensor cut into runs, the parity check, a timed run.</summary>
internal static class OrtBatch
{
    /// <summary>The rows of <paramref name="all"/> (<paramref name="rows"/> × <paramref name="width"/>) as tensors of at most <paramref name="chunk"/> rows.</summary>
    public static OrtValue[] Chunks<T>(T[] all, int rows, int width, int chunk) where T : unmanaged
        => Enumerable.Range(0, (rows + chunk - 1) / chunk).Select(c =>
        {
            int count = Math.Min(chunk, rows - c * chunk);
            return OrtValue.CreateTensorValueFromMemory(all.AsSpan(c * chunk * width, count * width).ToArray(), new long[] { count, width });
        }).ToArray();

    /// <summary>Largest |ONNX − managed| over the graph's first output on <paramref name="input"/>.</summary>
    public static double LargestDifference(InferenceSession session, RunOptions runOptions, string[] inputNames, OrtValue input, string[] outputNames, float[] managed)
    {
        using var outputs = session.Run(runOptions, inputNames, new[] { input }, outputNames);
        var onnx = outputs[0].GetTensorDataAsSpan<float>();
        double largest = 0;
        for (int i = 0; i < managed.Length; i++)
            largest = Math.Max(largest, Math.Abs(managed[i] - onnx[i]));
        return largest;
    }

    /// <summary>Runs the graph on each input and sums every <paramref name="stride"/>-th score (so the work cannot be skipped).</summary>
    public static float RunAndSum(InferenceSession session, RunOptions runOptions, string[] inputNames, IEnumerable<OrtValue> inputs, string[] outputNames, int stride)
    {
        float sum = 0;
        foreach (var input in inputs)
        {
            using var outputs = session.Run(runOptions, inputNames, new[] { input }, outputNames);
            var scores = outputs[0].GetTensorDataAsSpan<float>();
            for (int i = 0; i < scores.Length; i += stride)
                sum += scores[i];
        }
        return sum;
    }
}
