"""Model files on disk: the model store and library (app.store.library), downloads from the
Hugging Face hub (app.store.download through app.store.hub, the only huggingface_hub
importer). No Qt: progress goes to plain callbacks, which the UI turns into signals."""
