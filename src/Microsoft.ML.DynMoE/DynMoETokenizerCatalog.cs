using Microsoft.ML.DynMoE.Sequence;

namespace Microsoft.ML;

/// <summary>
/// <c>mlContext.Transforms.Text.TokenizeForDynMoE</c>: a DynMoE text classifier's tokenizer as a pipeline step, for
/// exporting the classifier to ONNX from token codes (<see cref="DynMoEEncoderTransformer.WithTokenInput"/>).
/// </summary>
public static class DynMoETokenizerCatalog
{
    /// <summary>
    /// Adds the token codes a trained DynMoE text classifier reads, computed from its text columns exactly as the
    /// classifier tokenizes them: an Int64 vector of <c>MaximumSequenceLength</c> codes, 0 after the last token.
    /// </summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="classifier">The trained text classifier (the DynMoE step of a fitted pipeline).</param>
    /// <param name="outputColumnName">The token-code column to add.</param>
    /// <exception cref="ArgumentException"><paramref name="classifier"/> is not a text classifier.</exception>
    public static DynMoETokenizingEstimator TokenizeForDynMoE(this TransformsCatalog.TextTransforms catalog, DynMoEEncoderTransformer classifier,
        string outputColumnName = DynMoETokenizingEstimator.DefaultColumnName)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        var input = classifier.Model.Input is TokenColumnSequenceInput tokens ? tokens.Text : classifier.Model.Input;
        if (!input.HasTokenIds)
            throw new ArgumentException("The DynMoE classifier reads images, not text; only text classifiers have a tokenizer.", nameof(classifier));
        var env = CatalogUtils.GetEnvironment(catalog);
        return new DynMoETokenizingEstimator(env, new DynMoETokenizingTransformer(env, input, outputColumnName));
    }
}
