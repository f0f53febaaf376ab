"""outputs/explorer"""
