"""(placeholder until this slice is built)"""

urlpatterns = []
