"""The assistant's LLM tier: questions the rules and the semantic tier could not resolve.

``assistant.llm.stage.LLMStage`` is the tier; see docs/llm.md for providers and settings. Importing
this package does not import litellm (``assistant.llm.generator`` imports it on the first call).
"""
