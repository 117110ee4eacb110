using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;

namespace Microsoft.ML.DynMoE.PerformanceTests;

/// <summary>
/// A/B timing on a shared machine: every scorer runs once per round, in turn, after two warm-up rounds, so load
/// changes hit all of them alike; the medians over the rounds are compared, as ratios to the first scorer.
/// </summary>
internal static class InterleavedTiming
{
    /// <summary>Median µs per single-row call (<paramref name="singleCalls"/> calls per round) and median seconds per batch call.</summary>
    public static (double[] SingleMicroseconds, double[] BatchSeconds) Medians(
        IReadOnlyList<Func<float>> single, IReadOnlyList<Func<float>> batch, int singleCalls, int rounds)
    {
        var singleTimes = single.Select(_ => new List<double>()).ToArray();
        var batchTimes = batch.Select(_ => new List<double>()).ToArray();
        var watch = new Stopwatch();
        for (int round = -2; round < rounds; round++)
        {
            for (int c = 0; c < single.Count; c++)
            {
                watch.Restart();
                for (int i = 0; i < singleCalls; i++)
                    single[c]();
                if (round >= 0)
                    singleTimes[c].Add(watch.Elapsed.TotalMilliseconds * 1000 / singleCalls);
            }
            for (int c = 0; c < batch.Count; c++)
            {
                watch.Restart();
                batch[c]();
                if (round >= 0)
                    batchTimes[c].Add(watch.Elapsed.TotalSeconds);
            }
        }
        static double Median(List<double> values) => values.OrderBy(v => v).ElementAt(values.Count / 2);
        return (singleTimes.Select(Median).ToArray(), batchTimes.Select(Median).ToArray());
    }

    /// <summary>One line per batch scorer (the first <c>single.Length</c> also timed singly), ratios to the first.</summary>
    public static void PrintTable(string item, IReadOnlyList<string> names, double[] single, double[] batch, int itemsPerBatch, int nameWidth)
    {
        Console.WriteLine($"{"scorer".PadRight(nameWidth)}{$"single {item} µs",16}{"vs managed",12}{$"batch {item}s/s",16}{"vs managed",12}");
        for (int c = 0; c < batch.Length; c++)
        {
            string singleColumns = c < single.Length ? $"{single[c],16:F1}{single[c] / single[0],12:F2}" : $"{"",16}{"",12}";
            Console.WriteLine($"{names[c].PadRight(nameWidth)}{singleColumns}{itemsPerBatch / batch[c],16:N0}{batch[0] / batch[c],12:F2}");
        }
    }
}
