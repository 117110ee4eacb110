using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.DynMoE;

namespace Microsoft.ML.DynMoE.Samples;

/// <summary>The text samples' routing explanation: experts activated per token by class, and the tokens that activate the most and the fewest.</summary>
internal static class TokenRoutingPrinter
{
    /// <summary>
    /// Routes <paramref name="data"/> through the model's routing API (padding never counts) and prints the mean activated
    /// experts per token overall and per class (named by <paramref name="className"/> from the Boolean label), then the
    /// <paramref name="count"/> tokens seen at least <paramref name="minimumOccurrences"/> times that activate the most and the fewest.
    /// </summary>
    public static (DynMoEEncoderRoutingReport Report, IReadOnlyList<DynMoETokenRouting> Most, IReadOnlyList<DynMoETokenRouting> Fewest) Print(
        ITransformer model, IDataView data, string rows, Func<bool, string> className, int count = 10, int minimumOccurrences = 20)
    {
        var report = ((DynMoEEncoderTransformer)model).Model.ComputeRouting(data, "Label");
        var most = report.MostActivatingTokens(count, minimumOccurrences);
        var fewest = report.FewestActivatingTokens(count, minimumOccurrences);
        Console.WriteLine($"Experts activated per token on the {rows} (overall {report.Overall.MeanActivatedExpertsPerToken:F2}): " +
                          string.Join(", ", report.ByLabel.OrderBy(p => p.Key).Select(p => $"{className(p.Key == "true")} {p.Value.MeanActivatedExpertsPerToken:F2}")));
        Console.WriteLine($"  tokens that activate the most experts:   {Describe(most)}");
        Console.WriteLine($"  tokens that activate the fewest experts: {Describe(fewest)}");
        return (report, most, fewest);
    }

    /// <summary>One line: each token (quoted, so leading spaces of tiktoken pieces show) with its mean activated experts.</summary>
    private static string Describe(IEnumerable<DynMoETokenRouting> tokens)
        => string.Join(", ", tokens.Select(t => $"'{t.Token}' {t.MeanActivatedExperts:F2}"));
}
